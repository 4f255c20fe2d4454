"""Rewriting the rules' AST: which predicates depend on which, and the rules made to hold many cases.

`tag_cases` gives every atom of a predicate that depends on the case facts the case's number
as its first argument, so that many cases ground and solve in one clingo Control while what
does not depend on any case (clauses, the register, the tree's fixed parts) is grounded once.
"""

from __future__ import annotations

from dataclasses import dataclass

from clingo import ast

CASE = "case"       # case(K): the cases of one Control, the domain of a tagged rule with no tagged positive atom
VARIABLE = "CASE"   # the case number's variable in the tagged rules
KEPT = {ast.ASTType.Rule, ast.ASTType.Definition, ast.ASTType.Program, ast.ASTType.Defined}
SHOW = {ast.ASTType.ShowSignature, ast.ASTType.ShowTerm}


def atoms(node) -> list:
    """Every atom (a Function, or each of a pool's) anywhere below an AST node."""
    found = []

    class Collect(ast.Transformer):
        def visit_SymbolicAtom(self, atom):
            symbol = atom.symbol
            found.extend(symbol.arguments if symbol.ast_type == ast.ASTType.Pool else [symbol])
            return atom

    Collect()(node)
    return [f for f in found if f.ast_type == ast.ASTType.Function]


def names(node) -> set[str]:
    return {f.name for f in atoms(node)}


def head_names(rule) -> set[str]:
    """The predicates a rule defines: its head's atoms, not the conditions they carry."""
    head = rule.head
    if head.ast_type == ast.ASTType.Literal:
        return names(head)
    if head.ast_type in (ast.ASTType.Disjunction, ast.ASTType.Aggregate):
        return {n for e in head.elements for n in names(e.literal)}
    if head.ast_type == ast.ASTType.HeadAggregate:
        return {n for e in head.elements for n in names(e.condition.literal)}
    raise ValueError(f"{head.location.begin.filename}:{head.location.begin.line}: "
                     f"cannot tell what a {head.ast_type.name} head defines")


def dependent(statements: list, roots: set[str]) -> set[str]:
    """The roots and every predicate defined by a rule that mentions one of them, to a fixpoint."""
    return _closure([(head_names(stmt), names(stmt)) for stmt in statements if stmt.ast_type == ast.ASTType.Rule], roots)


def _closure(definitions: list[tuple[set[str], set[str]]], roots: set[str]) -> set[str]:
    mentions: dict[str, set[str]] = {}
    for heads, mentioned in definitions:
        for head in heads:
            mentions.setdefault(head, set()).update(mentioned)
    found, changed = set(roots), True
    while changed:
        changed = False
        for head, mentioned in mentions.items():
            if head not in found and mentioned & found:
                found.add(head)
                changed = True
    return found


class AtomRewriter(ast.Transformer):
    """Rewrites every atom, each of a pool's too, with `rewrite(function)`."""

    def visit_SymbolicAtom(self, atom):
        atom = atom.update(**self.visit_children(atom))
        symbol = atom.symbol
        if symbol.ast_type == ast.ASTType.Pool:  # p(a; b) is a pool of atoms
            return atom.update(symbol=symbol.update(arguments=[self.rewrite(f) for f in symbol.arguments]))
        return atom.update(symbol=self.rewrite(symbol))

    def rewrite(self, function):
        return function


class _Tag(AtomRewriter):
    """Puts the case variable first in every atom of a tagged predicate."""

    def __init__(self, tagged: set[str], variable):
        self.tagged, self.variable = tagged, variable

    def rewrite(self, function):
        if function.ast_type == ast.ASTType.Function and function.name in self.tagged:
            return function.update(arguments=[self.variable, *function.arguments])
        return function

    def visit_Variable(self, variable):
        if variable.name == self.variable.name:
            raise ValueError(f"{variable.location.begin.filename}:{variable.location.begin.line}: "
                             f"the rules use the variable {variable.name}, which tag_cases reserves")
        return variable


@dataclass(frozen=True)
class CaseProgram:
    statements: list
    tagged: frozenset[str]  # the names whose atoms (and #show terms) carry the case number first


def tag_cases(statements: list, inputs: set[str]) -> CaseProgram:
    """The rules with every predicate that depends on `inputs` (the case facts) tagged by case number."""
    mentioned = [names(stmt) for stmt in statements]
    tagged = _closure([(head_names(stmt), m) for stmt, m in zip(statements, mentioned)
                       if stmt.ast_type == ast.ASTType.Rule], inputs)
    used = set().union(*mentioned)
    if CASE in used:
        raise ValueError(f"the rules use the predicate {CASE}/1, which tag_cases reserves")
    rewritten, shown = [], set()
    for stmt, mentions in zip(statements, mentioned):
        kind = stmt.ast_type
        if kind not in KEPT | SHOW:
            if kind == ast.ASTType.Comment:
                continue
            raise ValueError(f"{stmt.location.begin.filename}:{stmt.location.begin.line}: "
                             f"cannot rewrite a {kind.name} statement to hold many cases")
        if kind in (ast.ASTType.ShowSignature, ast.ASTType.Defined):
            rewritten.append(stmt.update(arity=stmt.arity + 1) if stmt.name in tagged else stmt)
            continue
        if kind not in (ast.ASTType.Rule, ast.ASTType.ShowTerm) or not mentions & tagged:
            rewritten.append(stmt)
            continue
        loc = stmt.location
        variable = ast.Variable(loc, VARIABLE)
        stmt = _Tag(tagged, variable)(stmt)
        if not any(_binds(lit, tagged) for lit in stmt.body):
            domain = ast.SymbolicAtom(ast.Function(loc, CASE, [variable], 0))
            stmt = stmt.update(body=[*stmt.body, ast.Literal(loc, ast.Sign.NoSign, domain)])
        if kind == ast.ASTType.ShowTerm:
            if stmt.term.ast_type != ast.ASTType.Function:
                raise ValueError(f"{loc.begin.filename}:{loc.begin.line}: a #show term over case atoms must be a function")
            shown.add(stmt.term.name)
            stmt = stmt.update(term=stmt.term.update(arguments=[variable, *stmt.term.arguments]))
        rewritten.append(stmt)
    clash = shown & (used - tagged)
    if clash:
        raise ValueError(f"#show terms over case atoms share names with predicates that do not depend on a case: {sorted(clash)}")
    return CaseProgram(rewritten, frozenset(tagged | shown))


def _binds(literal, tagged: set[str]) -> bool:
    """A positive tagged atom of the body: it binds the case variable."""
    return (literal.ast_type == ast.ASTType.Literal and literal.sign == ast.Sign.NoSign
            and literal.atom.ast_type == ast.ASTType.SymbolicAtom
            and literal.atom.symbol.ast_type == ast.ASTType.Function and literal.atom.symbol.name in tagged)


# ---------------------------------------------------------------- the decision-only program

def shown(statements: list) -> set[str]:
    """The predicates the #show statements read: shown signatures and the conditions of shown terms."""
    found: set[str] = set()
    for stmt in statements:
        if stmt.ast_type == ast.ASTType.ShowSignature:
            found.add(stmt.name)
        elif stmt.ast_type == ast.ASTType.ShowTerm:
            found |= names(stmt)
    return found


def needed(statements: list, roots: set[str]) -> set[str]:
    """The roots and every predicate mentioned by a rule that defines one of them, to a fixpoint:
    what the roots depend on (`dependent` the other way round)."""
    return _closure([(names(stmt), head_names(stmt)) for stmt in statements if stmt.ast_type == ast.ASTType.Rule], roots)


def decision_program(statements: list, inputs: set[str] | None = None) -> list:
    """The rules a determination needs: the same shown atoms as the whole program, fewer atoms.

    Kept: every rule of a predicate that a #show statement or an integrity constraint depends on
    (`needed`), the constraints, the #show statements and everything else that is not a rule.
    Then each predicate p read only by one `#show p(X, ...) : G, p(X, ...)` (the explanation's
    words, shown only for the nodes G names) is derived only where G holds: its rules take G as
    a further condition, so what no #show can print is never grounded. With `inputs` (the case
    facts), a rule whose body depends on none of them is left whole: it is grounded once, before
    any case (`staged`), and costs a case nothing."""
    rules = [s for s in statements if s.ast_type == ast.ASTType.Rule]
    roots = shown(statements) | {n for s in rules if not head_names(s) for n in names(s)}
    keep = needed(statements, roots)
    program = [s for s in statements if s.ast_type != ast.ASTType.Rule or not head_names(s) or head_names(s) & keep]
    case = dependent(program, inputs) if inputs is not None else None
    for show in [s for s in statements if s.ast_type == ast.ASTType.ShowTerm]:
        guard = _guard(show, program)
        if guard is not None:
            name, variables, condition = guard
            program = [_guarded(s, variables, condition)
                       if s.ast_type == ast.ASTType.Rule and name in head_names(s)
                       and (case is None or body_names(s) & case) else s
                       for s in program]
    return program


def body_names(rule) -> set[str]:
    """The predicates a rule's truth rests on: its body's, and the conditions of its head's elements."""
    found = set().union(*(names(lit) for lit in rule.body)) if len(rule.body) else set()
    head = rule.head
    if head.ast_type in (ast.ASTType.Disjunction, ast.ASTType.Aggregate):
        found |= {n for e in head.elements for lit in e.condition for n in names(lit)}
    elif head.ast_type == ast.ASTType.HeadAggregate:
        found |= {n for e in head.elements for lit in e.condition.condition for n in names(lit)}
    return found


def _guard(show, program: list):
    """(p, its variables, G) for `#show p(X, ...) : G, p(X, ...)` when p is read nowhere else and
    each rule defining p has a plain p(...) head; otherwise None."""
    term = show.term
    if term.ast_type != ast.ASTType.Function or term.external:
        return None
    variables = [a.name for a in term.arguments if a.ast_type == ast.ASTType.Variable]
    if len(variables) != len(term.arguments) or len(set(variables)) != len(variables) or "_" in variables:
        return None
    body = list(show.body)
    own = [i for i, lit in enumerate(body) if _plain(lit) and lit.atom.symbol.name == term.name
           and [getattr(a, "name", None) for a in lit.atom.symbol.arguments] == variables]
    if len(own) != 1:
        return None
    condition = body[:own[0]] + body[own[0] + 1:]
    for stmt in program:
        if stmt is show or stmt.ast_type == ast.ASTType.ShowSignature and stmt.name != term.name:
            continue
        if stmt.ast_type == ast.ASTType.Rule and term.name in head_names(stmt):
            head = stmt.head
            if (head_names(stmt) != {term.name} or head.ast_type != ast.ASTType.Literal or head.sign != ast.Sign.NoSign
                    or head.atom.symbol.ast_type != ast.ASTType.Function
                    or len(head.atom.symbol.arguments) != len(variables) or any(term.name in names(lit) for lit in stmt.body)):
                return None
        elif term.name in names(stmt) or stmt.ast_type == ast.ASTType.ShowSignature:
            return None
    return term.name, variables, condition


def _plain(literal) -> bool:
    return (literal.ast_type == ast.ASTType.Literal and literal.sign == ast.Sign.NoSign
            and literal.atom.ast_type == ast.ASTType.SymbolicAtom and literal.atom.symbol.ast_type == ast.ASTType.Function)


class _Substitute(ast.Transformer):
    """The show's variables replaced by the head's arguments, its other variables made the rule's own."""

    def __init__(self, mapping: dict, suffix: str):
        self.mapping, self.suffix = mapping, suffix

    def visit_Variable(self, variable):
        if variable.name in self.mapping:
            return self.mapping[variable.name]
        return variable if variable.name == "_" else variable.update(name=variable.name + self.suffix)


def _guarded(rule, variables: list[str], condition: list):
    """The rule with the show's condition added to its body, over the rule's own head arguments."""
    mapping = dict(zip(variables, rule.head.atom.symbol.arguments))
    substitute = _Substitute(mapping, "_SHOWN")
    return rule.update(body=[*rule.body, *(substitute(lit) for lit in condition)])


# ---------------------------------------------------------------- the rules in two steps

STATIC = "kbquery_static"  # the program part that no case's facts reach


def staged(statements: list, inputs: set[str]) -> list:
    """The rules in two program parts: STATIC, every rule that mentions no predicate depending on
    `inputs` (the case facts), which can be grounded before any case is known; and `base`, the
    rest, grounded once a case's facts are in. A rule goes to STATIC when its body reads no
    predicate that depends on a case, whatever its head: a predicate may have atoms of both parts,
    and the second step's rules read them all."""
    case = dependent(statements, inputs)
    static, rest = [], []
    for stmt in statements:
        if stmt.ast_type == ast.ASTType.Rule and head_names(stmt) and not body_names(stmt) & case:
            static.append(stmt)
        else:
            rest.append(stmt)
    loc = statements[0].location if statements else None
    return [ast.Program(loc, STATIC, []), *static, ast.Program(loc, "base", []), *rest]
