"""Reading diffs: the kinds of request whose determination changes when readings of the
interpretations register are switched, each with a witness case.

Two copies of the rules that a reading can change (the predicates that depend on chosen/2,
renamed apart as a_ and b_, each reading constant replaced by its side's choice), and one of
the rest, decide the same case generated from the QA search space; kb/common/qa_diff.lp names
where they disagree. As in QA, the search is bounded in solver conflicts, never in seconds, so
the result depends on the rules alone.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import clingo
from clingo import ast

from . import decide
from .knowledge import KnowledgeBase
from .program import AtomRewriter, dependent, head_names
from .qa import CONFLICTS, WITNESS_CONFLICTS, Search, _representatives

DIFF = "common/qa_diff.lp"
INTERFACE = {"kind", "determination"}
DROPPED = {ast.ASTType.Definition, ast.ASTType.ShowSignature, ast.ASTType.ShowTerm}


class _Copy(AtomRewriter):
    """Renames a copy's reading-dependent atoms with a prefix and puts its readings in place of the constants."""

    def __init__(self, prefix: str, renamed: set[str], constants: dict[str, str]):
        self.prefix, self.renamed, self.constants = prefix, renamed, constants

    def rewrite(self, function):
        if function.ast_type == ast.ASTType.Function and function.name in self.renamed:
            return function.update(name=self.prefix + function.name)
        return function

    def visit_SymbolicTerm(self, term):
        symbol = term.symbol
        if symbol.type == clingo.SymbolType.Function and not symbol.arguments and symbol.name in self.constants:
            return term.update(symbol=clingo.Function(self.constants[symbol.name]))
        return term


def reading_dependent(statements: list[ast.AST]) -> set[str]:
    """The predicates whose atoms can differ between readings: those that depend on chosen/2."""
    return dependent(statements, {"chosen"})


def rules_copies(kb: KnowledgeBase, base: dict[str, str], switched: dict[str, str]) -> list[ast.AST]:
    """The rules once, with the predicates a reading can change in two renamed copies (a_, b_)."""
    statements: list[ast.AST] = []
    ast.parse_files([str(p) for p in kb.rule_files],
                    lambda stmt: statements.append(stmt) if stmt.ast_type not in DROPPED else None)
    changing = reading_dependent(statements)
    defaults = {rid: r.default for rid, r in kb.readings.items()}
    program: list[ast.AST] = []
    for prefix, readings in (("a_", base), ("b_", {**base, **switched})):
        copy = _Copy(prefix, changing, {f"reading_{rid}": c for rid, c in {**defaults, **readings}.items()})
        for stmt in statements:
            heads = head_names(stmt) if stmt.ast_type == ast.ASTType.Rule else set()
            if prefix == "a_" and not heads & changing or heads & changing:
                program.append(copy(stmt) if heads & changing else stmt)
        for name in INTERFACE - changing:  # what both copies share, under the names qa_diff.lp reads
            ast.parse_string(f"{prefix}{name}(X) :- {name}(X).", program.append)
    return program


@dataclass
class Change:
    base: dict      # request_kind and determination under the base readings
    switched: dict  # ... under the switched readings
    witness: dict
    verified: bool | None = None
    minimal: bool | None = None  # whether the witness is proved to have the fewest documented fields


@dataclass
class Diff:
    base: dict
    switched: dict
    exhaustive: bool
    conflict_limit: int  # the search's bound, in solver conflicts
    conflicts: int       # the solver's work: deterministic, like every change found
    seconds: float
    changes: list[Change]

    @property
    def incomplete(self) -> str | None:
        """Why the list of changes is not exhaustive, or None when it is."""
        if self.exhaustive:
            return None
        return (f"NOT EXHAUSTIVE: the search stopped at its bound of {self.conflict_limit} solver conflicts; "
                "other changes may exist. Raise --max-conflicts.")

    def to_dict(self) -> dict:
        head = {"exhaustive": self.exhaustive, **({"incomplete": self.incomplete} if self.incomplete else {})}
        return {**head, "base": self.base, "switched": self.switched, "conflict_limit": self.conflict_limit,
                "conflicts": self.conflicts, "seconds": round(self.seconds, 2),
                "changes": [c.__dict__ for c in self.changes]}


def run(kb: KnowledgeBase, switched: dict[str, str], base: dict[str, str] | None = None,
        max_procedures: int | None = None, conflicts: int = CONFLICTS,
        witness_conflicts: int = WITNESS_CONFLICTS) -> Diff:
    base = dict(base or {})
    kb.reading_options(base), kb.reading_options(switched)  # each choice checked against the register
    started = time.perf_counter()
    statements = rules_copies(kb, base, switched)
    search = Search(kb, statements, [kb.root / DIFF], ("qa_diff", "qa_kind_diff"), max_procedures=max_procedures)
    exhaustive = search.explore(sorted(search.targets), conflicts)
    changes = []
    for sym in _representatives(search.reached):
        (case, claim), minimal = search.smallest(sym, witness_conflicts)
        if sym.name == "qa_diff":
            kind, d1, d2 = (a.name for a in sym.arguments)
            k1 = k2 = kind
        else:
            (k1, k2), (d1, d2) = (a.name for a in sym.arguments), (claim["a"], claim["b"])
        changes.append(Change({"request_kind": k1, "determination": d1},
                              {"request_kind": k2, "determination": d2}, {"case_id": "diff", **case},
                              minimal=minimal))
    return Diff(base, switched, exhaustive, conflicts, search.conflicts, time.perf_counter() - started, changes)


def verify(diff: Diff, kb: KnowledgeBase) -> None:
    """Each witness, decided by kbquery under each set of readings, changes as claimed."""
    for c in diff.changes:
        a = decide(c.witness, readings=diff.base or None, kb=kb)
        b = decide(c.witness, readings={**diff.base, **diff.switched}, kb=kb)
        c.verified = ((a.request_kind, a.determination), (b.request_kind, b.determination)) == (
            (c.base["request_kind"], c.base["determination"]), (c.switched["request_kind"], c.switched["determination"]))


def markdown(diff: Diff) -> str:
    def named(readings):
        return ", ".join(f"{k}={v}" for k, v in readings.items()) or "the register's defaults"

    title = f"# Reading diff: {named(diff.switched)} against {named(diff.base)}"
    lines = [title if diff.exhaustive else f"{title}: **{diff.incomplete}**", "",
             ("The search was exhaustive: no other kind of request changes." if diff.exhaustive
              else "**The search was not exhaustive: other changes may exist.**"),
             f"{diff.conflicts} solver conflicts (bound {diff.conflict_limit}); {diff.seconds:.1f} s.", "",
             f"## Changes ({len(diff.changes)})", ""]
    if not diff.changes:
        lines.append("No request is decided differently.")
    for c in diff.changes:
        mark = {True: "verified", False: "**NOT as claimed**", None: "not run"}[c.verified]
        lines += [f"- {c.base['request_kind'].replace('_', ' ')}: {c.base['determination'].replace('_', ' ')} -> "
                  f"{c.switched['request_kind'].replace('_', ' ')}: {c.switched['determination'].replace('_', ' ')} "
                  f"({mark} by kbquery)", "", "    ```json", "    " + json.dumps(c.witness, sort_keys=True),
                  "    ```", ""]
    return "\n".join(lines) + "\n"
