"""Grounding and solving one case: exactly one answer set, or an internal error."""

from __future__ import annotations

from collections import defaultdict

import clingo

from .knowledge import KnowledgeBase


class InternalError(RuntimeError):
    """The knowledge base misbehaved (no answer set, several, or a kb_error); never the case's fault."""


class Answer:
    """The answer set, indexed by predicate for the readers."""

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


def solve(kb: KnowledgeBase, facts: list[clingo.Symbol], readings: dict[str, str] | None = None) -> Answer:
    ctl = clingo.Control(["--warn=none", "--models=2", *kb.reading_options(readings)])
    ctl.add("base", [], kb.program)
    with ctl.backend() as backend:
        for sym in facts:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    models: list[list[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True)))
    if len(models) != 1:
        raise InternalError(f"the knowledge base gave {len(models) if models else 'no'} answer sets for this case; exactly one is required")
    answer = Answer(models[0])
    errors = sorted(a[0].string for a in answer.args("kb_error", 1))
    if errors:
        raise InternalError("knowledge base error: " + "; ".join(errors))
    return answer
