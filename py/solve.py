"""Grounding and solving one case: exactly one answer set, or an internal error."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import clingo
from clingo import ast

from .knowledge import KnowledgeBase


class InternalError(RuntimeError):
    """The knowledge base misbehaved (no answer set, several, or a kb_error); never the case's fault."""


class Answer:
    """An answer set, indexed by predicate for the readers."""

    def __init__(self, symbols: list[clingo.Symbol]):
        self.symbols = symbols
        self._index: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        for s in symbols:
            self._index[(s.name, len(s.arguments))].append(tuple(s.arguments))

    def args(self, name: str, arity: int) -> list[tuple]:
        return self._index.get((name, arity), [])

    def first(self, name: str, arity: int) -> tuple | None:
        found = self.args(name, arity)
        return found[0] if found else None


def ground(kb: KnowledgeBase, facts: Iterable[clingo.Symbol], readings: dict[str, str] | None = None,
           extra: Iterable[Path] = (), options: Iterable[str] = ()) -> clingo.Control:
    """The policy's rules (and any extra encodings) grounded with the facts, added through the API."""
    ctl = clingo.Control(["--warn=none", *options, *kb.reading_options(readings)])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in kb.statements:
            builder.add(statement)
    for path in extra:
        ctl.load(str(path))
    with ctl.backend() as backend:
        for sym in facts:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return ctl


def solve(kb: KnowledgeBase, facts: list[clingo.Symbol], readings: dict[str, str] | None = None,
          full: bool = False) -> Answer:
    """The one answer set: what the rules #show (a determination's interface), or every atom (`full`)."""
    ctl = ground(kb, facts, readings, options=["--models=2"])
    models: list[list[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True) if full else m.symbols(shown=True)))
    if len(models) != 1:
        raise InternalError(f"the knowledge base gave {len(models) if models else 'no'} answer sets for this case; exactly one is required")
    answer = Answer(models[0])
    errors = sorted(a[0].string for a in answer.args("kb_error", 1))
    if errors:
        raise InternalError("knowledge base error: " + "; ".join(errors))
    return answer


def solve_optimal(kb: KnowledgeBase, facts: list[clingo.Symbol], extra: Iterable[Path],
                  readings: dict[str, str] | None = None, limit: int = 5) -> list[Answer]:
    """Up to `limit` optimal answer sets of the rules with extra (optimising) encodings."""
    ctl = ground(kb, facts, readings, extra, options=["--opt-mode=optN", "--models=0"])
    optimal: list[Answer] = []
    with ctl.solve(yield_=True) as handle:
        for model in handle:
            if model.optimality_proven:
                optimal.append(Answer(model.symbols(atoms=True)))
                if len(optimal) >= limit:
                    break
    return optimal
