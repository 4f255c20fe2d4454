"""Grounding and solving cases: exactly one answer set each, or an internal error."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import clingo
from clingo import ast

from .facts import case_symbols
from .knowledge import KnowledgeBase
from .program import CASE


# Cases grounded in one Control: beyond a few dozen the rules' preparation is already shared,
# and the Control's memory grows with every case it holds.
PER_CONTROL = 50


class InternalError(RuntimeError):
    """The knowledge base misbehaved (no answer set, several, or a kb_error); never the case's fault."""


class Answer:
    """An answer set (one case's part of it), indexed by predicate for the readers."""

    def __init__(self, atoms: Iterable[tuple[str, tuple]]):
        self._index: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        for name, args in atoms:
            self._index[(name, len(args))].append(args)

    def args(self, name: str, arity: int) -> list[tuple]:
        return self._index.get((name, arity), [])

    def first(self, name: str, arity: int) -> tuple | None:
        found = self.args(name, arity)
        return found[0] if found else None


def ground(kb: KnowledgeBase, facts: Iterable[clingo.Symbol], readings: dict[str, str] | None = None,
           extra: Iterable[Path] = (), options: Iterable[str] = (), decision: bool = False) -> clingo.Control:
    """The policy's rules (and any extra encodings) grounded with one case's facts, added through the API;
    with `decision`, only the rules a determination needs (kb.decision_statements)."""
    ctl = clingo.Control(["--warn=none", *options, *kb.reading_options(readings)])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in kb.decision_statements if decision else kb.statements:
            builder.add(statement)
    for path in extra:
        ctl.load(str(path))
    with ctl.backend() as backend:
        for sym in facts:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return ctl


def _models(ctl: clingo.Control, full: bool) -> list[list[clingo.Symbol]]:
    """Up to two answer sets: the shown atoms (a determination's interface), or every atom (`full`)."""
    models: list[list[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True) if full else m.symbols(shown=True)))
    return models


def _checked(answer: Answer) -> Answer | InternalError:
    errors = sorted(a[0].string for a in answer.args("kb_error", 1))
    return InternalError("knowledge base error: " + "; ".join(errors)) if errors else answer


def solve(kb: KnowledgeBase, case: dict, readings: dict[str, str] | None = None, full: bool = False,
          decision: bool | None = None) -> Answer:
    """One validated case's answer set; InternalError unless there is exactly one, free of kb_error.

    Its shown atoms come from the decision-only rules, unless `decision` is False; `full` (every
    atom, for an explanation) always grounds the whole program."""
    ctl = ground(kb, case_symbols(case, kb.schema), readings, options=["--models=2"], decision=_decision(full, decision))
    return _one(_models(ctl, full))


def _decision(full: bool, decision: bool | None) -> bool:
    if full and decision:
        raise ValueError("every atom of the answer set (full) needs the whole program, not the decision-only rules")
    return not full if decision is None else decision


def _one(models: list[list[clingo.Symbol]]) -> Answer:
    if len(models) != 1:
        raise InternalError(f"the knowledge base gave {len(models) or 'no'} answer sets for this case; "
                            "exactly one is required")
    answer = _checked(Answer((sym.name, tuple(sym.arguments)) for sym in models[0]))
    if isinstance(answer, InternalError):
        raise answer
    return answer


def _solved(kb: KnowledgeBase, case: dict, readings: dict[str, str] | None, full: bool,
            decision: bool) -> Answer | InternalError:
    try:
        return solve(kb, case, readings, full, decision)
    except InternalError as e:
        return e


def case_control(kb: KnowledgeBase, cases: Sequence[dict], readings: dict[str, str] | None = None,
                 decision: bool = False) -> clingo.Control:
    """A Control holding the rules tagged by case (kb.case_program, or kb.decision_case_program with
    `decision`) and each case's facts, not yet grounded."""
    ctl = clingo.Control(["--warn=none", "--models=2", *kb.reading_options(readings)])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in (kb.decision_case_program if decision else kb.case_program).statements:
            builder.add(statement)
    with ctl.backend() as backend:
        for number, case in enumerate(cases):
            backend.add_rule([backend.add_atom(clingo.Function(CASE, [clingo.Number(number)]))])
            for sym in case_symbols(case, kb.schema, number):
                backend.add_rule([backend.add_atom(sym)])
    return ctl


def solve_many(kb: KnowledgeBase, cases: Sequence[dict], readings: dict[str, str] | None = None,
               full: bool = False, decision: bool | None = None) -> list[Answer | InternalError]:
    """Each validated case's answer set (as `solve` gives it), all grounded in one Control.

    The rules are kb.case_program: what depends on no case is grounded once and belongs to every
    case's answer; the rest carries the case's number, so the cost of preparing the rules is paid
    once for all the cases. A case the rules fail on gets its InternalError without costing the
    others their answers. As in `solve`, shown atoms come from the decision-only rules unless
    `decision` is False."""
    decision = _decision(full, decision)
    if len(cases) > PER_CONTROL:
        return [answer for start in range(0, len(cases), PER_CONTROL)
                for answer in solve_many(kb, cases[start:start + PER_CONTROL], readings, full, decision)]
    if len(cases) < 2:  # alone, a case grounds faster in the plain rules than in the tagged ones
        return [_solved(kb, case, readings, full, decision) for case in cases]
    program = kb.decision_case_program if decision else kb.case_program
    ctl = case_control(kb, cases, readings, decision)
    ctl.ground([("base", [])])
    models = _models(ctl, full)
    if len(models) != 1:  # the cases' answer sets multiply: find out case by case
        return [_solved(kb, case, readings, full, decision) for case in cases]
    shared: list[tuple[str, tuple]] = []
    own: list[list[tuple[str, tuple]]] = [[] for _ in cases]
    for sym in models[0]:
        if sym.name in program.tagged:
            number, *args = sym.arguments
            own[number.number].append((sym.name, tuple(args)))
        elif sym.name != CASE:
            shared.append((sym.name, tuple(sym.arguments)))
    return [_checked(Answer(atoms + shared)) for atoms in own]


def solve_optimal(kb: KnowledgeBase, facts: list[clingo.Symbol], extra: Iterable[Path],
                  readings: dict[str, str] | None = None, limit: int = 5) -> list[Answer]:
    """Up to `limit` optimal answer sets of the rules with extra (optimising) encodings."""
    ctl = ground(kb, facts, readings, extra, options=["--opt-mode=optN", "--models=0"])
    optimal: list[Answer] = []
    with ctl.solve(yield_=True) as handle:
        for model in handle:
            if model.optimality_proven:
                optimal.append(Answer((s.name, tuple(s.arguments)) for s in model.symbols(atoms=True)))
                if len(optimal) >= limit:
                    break
    return optimal
