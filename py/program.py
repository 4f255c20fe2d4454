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


@dataclass(frozen=True)
class Info:
    """What one statement mentions, found in one walk: every predicate, and for a rule those it
    defines and those its truth rests on (`body_names`)."""
    mentioned: frozenset[str]
    heads: frozenset[str] = frozenset()
    body: frozenset[str] = frozenset()
    arities: frozenset[tuple[str, int]] = frozenset()


def info(stmt) -> Info:
    if stmt.ast_type != ast.ASTType.Rule:
        found = atoms(stmt)
        return Info(frozenset(f.name for f in found), arities=frozenset((f.name, len(f.arguments)) for f in found))
    head = atoms(stmt.head)
    body = [f for lit in stmt.body for f in atoms(lit)]
    heads = head_names(stmt)
    # a head's conditions (and, to be safe, its atoms) count as the body of a choice or disjunction
    conditions = {f.name for f in head} if stmt.head.ast_type != ast.ASTType.Literal else set()
    return Info(frozenset({f.name for f in head} | {f.name for f in body}), frozenset(heads),
                frozenset({f.name for f in body} | conditions),
                frozenset((f.name, len(f.arguments)) for f in [*head, *body]))


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
    # Of those, the predicates some of whose atoms depend on no case: (name, arity) of the atoms
    # grounded once per Control, without a case number, beside the tagged ones.
    once: frozenset[tuple[str, int]] = frozenset()


STATIC_MARK = "kbquery_once__"  # an atom's untagged form while the rest of its statement is tagged
VARIANTS = 16                   # copies of one statement at most, one per choice of its atoms' forms


class _Unsplittable(Exception):
    def __init__(self, name: str):
        self.name = name


def tag_cases(statements: list, inputs: set[str]) -> CaseProgram:
    """The rules with every predicate that depends on `inputs` (the case facts) tagged by case number.

    A rule whose body reads no such predicate is grounded once for all the cases, even when its
    head's predicate has other, case-dependent rules: that predicate's atoms then come in two forms,
    once (untagged) and per case (tagged), and each statement that reads it reads either (a positive
    atom: one copy of the statement per form; a negated one: neither form)."""
    infos = [info(stmt) for stmt in statements]
    tagged = _closure([(i.heads, i.mentioned) for stmt, i in zip(statements, infos)
                       if stmt.ast_type == ast.ASTType.Rule], inputs)
    used = set().union(*(i.mentioned for i in infos))
    if CASE in used:
        raise ValueError(f"the rules use the predicate {CASE}/1, which tag_cases reserves")
    arities: dict[str, set[int]] = {}
    for i in infos:
        for name, arity in i.arities:
            arities.setdefault(name, set()).add(arity)
    once_rules = [stmt.ast_type == ast.ASTType.Rule and bool(i.heads) and not i.body & tagged
                  for stmt, i in zip(statements, infos)]
    mixed = {n for i, once in zip(infos, once_rules) if once for n in i.heads & tagged if len(arities[n]) == 1}
    while True:  # a predicate read where its two forms cannot be told apart is tagged whole
        try:
            for stmt, i, once in zip(statements, infos, once_rules):
                if i.mentioned & mixed and stmt.ast_type in (ast.ASTType.Rule, ast.ASTType.ShowTerm) and not (
                        once and not i.heads - mixed - (used - tagged)):
                    _split(stmt, mixed)
            break
        except _Unsplittable as e:
            mixed = mixed - {e.name}
    rewritten, shown = [], set()
    for stmt, i, once in zip(statements, infos, once_rules):
        kind, mentions = stmt.ast_type, i.mentioned
        if kind not in KEPT | SHOW:
            if kind == ast.ASTType.Comment:
                continue
            raise ValueError(f"{stmt.location.begin.filename}:{stmt.location.begin.line}: "
                             f"cannot rewrite a {kind.name} statement to hold many cases")
        if kind in (ast.ASTType.ShowSignature, ast.ASTType.Defined):
            rewritten.append(stmt.update(arity=stmt.arity + 1) if stmt.name in tagged else stmt)
            if stmt.name in mixed:
                rewritten.append(stmt)
            continue
        if kind not in (ast.ASTType.Rule, ast.ASTType.ShowTerm) or not mentions & tagged:
            rewritten.append(stmt)
            continue
        if once and not i.heads - mixed - (used - tagged):
            rewritten.append(stmt)  # grounded once: its head's atoms are the predicate's untagged form
            continue
        loc = stmt.location
        variable = ast.Variable(loc, VARIABLE)
        for body in (_split(stmt, mixed) if mentions & mixed else [list(stmt.body)]):
            copy = _Tag(tagged, variable)(stmt.update(body=body))
            if not any(_binds(lit, tagged) for lit in copy.body):
                domain = ast.SymbolicAtom(ast.Function(loc, CASE, [variable], 0))
                copy = copy.update(body=[*copy.body, ast.Literal(loc, ast.Sign.NoSign, domain)])
            if kind == ast.ASTType.ShowTerm:
                if copy.term.ast_type != ast.ASTType.Function:
                    raise ValueError(f"{loc.begin.filename}:{loc.begin.line}: a #show term over case atoms must be a function")
                shown.add(copy.term.name)
                copy = copy.update(term=copy.term.update(arguments=[variable, *copy.term.arguments]))
            rewritten.append(_Unmark()(copy) if mentions & mixed else copy)
    clash = shown & (used - tagged)
    if clash:
        raise ValueError(f"#show terms over case atoms share names with predicates that do not depend on a case: {sorted(clash)}")
    once_forms = frozenset((n, next(iter(arities[n]))) for n in mixed)
    return CaseProgram(rewritten, frozenset(tagged | shown), once_forms)


def _split(stmt, mixed: set[str]) -> list[list]:
    """The statement's body once for each choice of form of its atoms of two forms."""
    if stmt.ast_type == ast.ASTType.Rule and stmt.head.ast_type != ast.ASTType.Literal:
        inside = names(stmt.head) & mixed - head_names(stmt)
        if inside:
            raise _Unsplittable(sorted(inside)[0])
    return _variants(list(stmt.body), mixed)


class _Mark(AtomRewriter):
    def rewrite(self, function):
        return function.update(name=STATIC_MARK + function.name)


class _Unmark(AtomRewriter):
    def rewrite(self, function):
        if function.ast_type == ast.ASTType.Function and function.name.startswith(STATIC_MARK):
            return function.update(name=function.name[len(STATIC_MARK):])
        return function


def _mixed_atom(literal, mixed: set[str]) -> str | None:
    """The name of a plain literal's atom when it is of a predicate with two forms."""
    if (literal.ast_type == ast.ASTType.Literal and literal.atom.ast_type == ast.ASTType.SymbolicAtom):
        symbol = literal.atom.symbol
        if symbol.ast_type == ast.ASTType.Pool:
            hit = {f.name for f in symbol.arguments if f.ast_type == ast.ASTType.Function} & mixed
            if hit:
                raise _Unsplittable(next(iter(hit)))
        elif symbol.ast_type == ast.ASTType.Function and symbol.name in mixed:
            return symbol.name
    return None


def _variants(conjunction: list, mixed: set[str]) -> list[list]:
    """The conjunction once for each choice of form of its positive atoms of two forms; a negated
    one stands for neither form, an aggregate's or a condition's elements are split alike."""
    options: list[list[list]] = []
    for lit in conjunction:
        name = _mixed_atom(lit, mixed)
        if name is not None:
            if lit.sign == ast.Sign.NoSign:
                options.append([[lit], [_Mark()(lit)]])
            elif lit.sign == ast.Sign.Negation:
                options.append([[lit, _Mark()(lit)]])
            else:
                raise _Unsplittable(name)
        elif lit.ast_type == ast.ASTType.ConditionalLiteral:
            head = _mixed_atom(lit.literal, mixed)
            if head is not None and lit.literal.sign != ast.Sign.Negation:
                raise _Unsplittable(head)
            heads = [lit.literal] + ([_Mark()(lit.literal)] if head is not None else [])
            options.append([[lit.update(literal=h, condition=c) for c in _variants(list(lit.condition), mixed) for h in heads]])
        elif (lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type == ast.ASTType.BodyAggregate
              and names(lit) & mixed):
            elements = [e.update(condition=c) for e in lit.atom.elements for c in _variants(list(e.condition), mixed)]
            options.append([[lit.update(atom=lit.atom.update(elements=elements))]])
        elif names(lit) & mixed:
            raise _Unsplittable(next(iter(names(lit) & mixed)))
        else:
            options.append([[lit]])
    variants: list[list] = [[]]
    for choices in options:
        variants = [v + c for v in variants for c in choices]
        if len(variants) > VARIANTS:
            raise _Unsplittable(sorted(set().union(*(names(lit) for lit in conjunction)) & mixed)[0])
    return variants


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
    any case (`staged`, or tag_cases for many cases), and costs a case nothing."""
    infos = [info(stmt) for stmt in statements]
    rules = [(stmt, i) for stmt, i in zip(statements, infos) if stmt.ast_type == ast.ASTType.Rule]
    roots = shown(statements) | {n for _, i in rules if not i.heads for n in i.mentioned}
    keep = _closure([(i.mentioned, i.heads) for _, i in rules], roots)
    program = [(stmt, i) for stmt, i in zip(statements, infos)
               if stmt.ast_type != ast.ASTType.Rule or not i.heads or i.heads & keep]
    case = _closure([(i.heads, i.mentioned) for stmt, i in program if stmt.ast_type == ast.ASTType.Rule],
                    inputs) if inputs is not None else None
    for show in [stmt for stmt in statements if stmt.ast_type == ast.ASTType.ShowTerm]:
        guard = _guard(show, program)
        if guard is not None:
            name, variables, condition = guard
            program = [(_guarded(stmt, variables, condition), i)
                       if stmt.ast_type == ast.ASTType.Rule and name in i.heads and (case is None or i.body & case)
                       else (stmt, i) for stmt, i in program]
    return [stmt for stmt, _ in program]


def body_names(rule) -> set[str]:
    """The predicates a rule's truth rests on: its body's, and the conditions of its head's elements."""
    found = set().union(*(names(lit) for lit in rule.body)) if len(rule.body) else set()
    head = rule.head
    if head.ast_type in (ast.ASTType.Disjunction, ast.ASTType.Aggregate):
        found |= {n for e in head.elements for lit in e.condition for n in names(lit)}
    elif head.ast_type == ast.ASTType.HeadAggregate:
        found |= {n for e in head.elements for lit in e.condition.condition for n in names(lit)}
    return found


def _guard(show, program: list[tuple]):
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
    shows = 0
    for stmt, i in program:
        if stmt.ast_type == ast.ASTType.ShowSignature:
            if stmt.name == term.name:
                return None
        elif stmt.ast_type == ast.ASTType.Rule and term.name in i.heads:
            head = stmt.head
            if (i.heads != {term.name} or head.ast_type != ast.ASTType.Literal or head.sign != ast.Sign.NoSign
                    or head.atom.symbol.ast_type != ast.ASTType.Function
                    or len(head.atom.symbol.arguments) != len(variables) or term.name in i.body):
                return None
        elif term.name in i.mentioned:
            shows += stmt.ast_type == ast.ASTType.ShowTerm
            if stmt.ast_type != ast.ASTType.ShowTerm or shows > 1:
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
    infos = [info(stmt) for stmt in statements]
    case = _closure([(i.heads, i.mentioned) for stmt, i in zip(statements, infos)
                     if stmt.ast_type == ast.ASTType.Rule], inputs)
    static, rest = [], []
    for stmt, i in zip(statements, infos):
        if stmt.ast_type == ast.ASTType.Rule and i.heads and not i.body & case:
            static.append(stmt)
        else:
            rest.append(stmt)
    loc = statements[0].location if statements else None
    return [ast.Program(loc, STATIC, []), *static, ast.Program(loc, "base", []), *rest]
