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
KEPT = {ast.ASTType.Rule, ast.ASTType.Definition, ast.ASTType.Program}
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
        if kind == ast.ASTType.ShowSignature:
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
