"""Grounding and solving cases: exactly one answer set each, or an internal error.

A determination solves the decision-only rules (kb.decision_statements: the same shown atoms as
the whole program); an explanation (`full`), QA and counterfactuals the whole program. A
long-lived process (a service, a notebook) may keep Controls ready for single determinations:

    >>> from kbquery import knowledge_base
    >>> from kbquery.solve import prepared
    >>> pool = prepared(knowledge_base(policy))   # started once; decide() then uses it

`decide` starts one by itself on a process's second lone determination of a policy and readings.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import clingo
from clingo import ast

from .derived import derived
from .facts import INPUTS, case_symbols
from .knowledge import KnowledgeBase
from .program import CASE, STATIC, decision_program, staged


# Cases grounded in one Control: a ground call prepares every rule afresh (about 40 ms of CPU on a
# slow day here for the tagged rules) and a case adds about 2.7 ms, so 200 (a batch window) share
# that cost well: grounding took 3.7 ms a case at 50, 2.7 at 200 and at 400 (400 generated cases,
# CPU time). The Control's memory grows with every case it holds: a batch worker peaked at about
# 225 MB after 2,000 cases, against 175 at 50 a Control.
PER_CONTROL = 200


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


# What a symbol reads as: a call into clingo per property, and a batch meets the same atoms (of
# case numbers 0, 1, ... in every Control) again and again; symbols are values, equal ones read alike.
@functools.lru_cache(maxsize=1 << 17)
def _atom(sym: clingo.Symbol) -> tuple[str, tuple]:
    return sym.name, tuple(sym.arguments)


@functools.lru_cache(maxsize=1 << 12)
def _number(sym: clingo.Symbol) -> int:
    return sym.number


def _checked(answer: Answer) -> Answer | InternalError:
    errors = sorted(a[0].string for a in answer.args("kb_error", 1))
    return InternalError("knowledge base error: " + "; ".join(errors)) if errors else answer


def solve(kb: KnowledgeBase, case: dict, readings: dict[str, str] | None = None, full: bool = False,
          decision: bool = False) -> Answer:
    """One validated case's answer set; InternalError unless there is exactly one, free of kb_error.

    With `decision`, the decision-only rules give the same shown atoms (not with `full`, every atom,
    for an explanation). A case alone grounds the whole program by default: deriving the
    decision-only rules costs a process more than it saves one case (the CLI's one determination)."""
    ctl = ground(kb, case_symbols(case, kb.schema), readings, options=["--models=2"], decision=_decision(full, decision))
    return _one(_models(ctl, full))


# The benchmark's switch: 0 has determinations solve the whole program, as before the decision-only
# one existed, so that one run can compare the two (bench/run.py --determinations).
DECISION = os.environ.get("KBQUERY_DECISION_PROGRAM", "1") != "0"


def _decision(full: bool, decision: bool | None) -> bool:
    if full and decision:
        raise ValueError("every atom of the answer set (full) needs the whole program, not the decision-only rules")
    return (DECISION and not full) if decision is None else decision


def _one(models: list[list[clingo.Symbol]]) -> Answer:
    if len(models) != 1:
        raise InternalError(f"the knowledge base gave {len(models) or 'no'} answer sets for this case; "
                            "exactly one is required")
    answer = _checked(Answer(map(_atom, models[0])))
    if isinstance(answer, InternalError):
        raise answer
    return answer


def _solved(kb: KnowledgeBase, case: dict, readings: dict[str, str] | None, full: bool,
            decision: bool, asked: bool | None = None) -> Answer | InternalError:
    """A case alone: from a prepared Control when the process keeps them (see `prepared`), else as
    `solve` grounds it (the decision-only rules only when `asked`)."""
    try:
        pool = _pool(kb, readings) if decision and not full else None
        return pool.solve(case) if pool else solve(kb, case, readings, full, bool(asked))
    except InternalError as e:
        return e


# ---------------------------------------------------------------- Controls prepared ahead

@functools.lru_cache(maxsize=None)
def _staged(kb: KnowledgeBase) -> list:
    return derived("staged", kb.program, lambda: (staged(decision_program(kb.statements, INPUTS), INPUTS), {}))[0]


@functools.lru_cache(maxsize=None)
def _staged_text(kb: KnowledgeBase) -> str:
    """The staged rules as program text (the rules' own, no case's): clingo parses it without the
    GIL, so a Control is prepared beside a request rather than in its way."""
    return "\n".join(str(statement) for statement in _staged(kb))


class Prepared:
    """Controls for single determinations, made before the requests arrive: the decision-only rules
    added and their case-independent part (kbquery.program.STATIC) grounded. A request then adds
    its case's facts, grounds the rest and solves; a thread of its own keeps `size` Controls ready
    and frees the spent ones, off the request path. When none is ready, a request makes its own.

    Take one with `prepared(kb, readings)`; `decide` and `decide_many` then use it for a lone case."""

    def __init__(self, kb: KnowledgeBase, readings: dict[str, str] | None = None, size: int = 2):
        self.kb, self.size = kb, size
        self.options = ["--warn=none", "--models=2", *kb.reading_options(readings)]
        self._ready: deque[clingo.Control] = deque()
        self._spent: list[clingo.Control] = []
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._fill, name=f"kbquery-prepared-{kb.id}", daemon=True)
        self._thread.start()

    def _make(self) -> clingo.Control:
        ctl = clingo.Control(self.options)
        ctl.add("base", [], _staged_text(self.kb))
        ctl.ground([(STATIC, [])])
        return ctl

    def _fill(self) -> None:
        while True:
            with self._wake:
                self._spent.clear()
                while not self._closed and len(self._ready) >= self.size and not self._spent:
                    self._wake.wait()
                if self._closed:
                    self._ready.clear()
                    return
                wanted = len(self._ready) < self.size
            if wanted:
                ctl = self._make()
                with self._wake:
                    self._ready.append(ctl)

    def take(self) -> clingo.Control:
        """A prepared Control (made now if none is ready), the case-independent rules grounded."""
        with self._wake:  # the thread refills once the request is done (`solve`), not during it
            ctl = self._ready.popleft() if self._ready else None
        return ctl if ctl is not None else self._make()

    def solve(self, case: dict) -> Answer:
        """One validated case's shown atoms, as `solve` gives them."""
        ctl = self.take()
        try:
            with ctl.backend() as backend:
                for sym in case_symbols(case, self.kb.schema):
                    backend.add_rule([backend.add_atom(sym)])
            ctl.ground([("base", [])])
            return _one(_models(ctl, False))
        finally:
            with self._wake:  # freed by the thread, not on the request path
                self._spent.append(ctl)
                self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()


_POOLS: dict[tuple, Prepared] = {}
_LONE: dict[tuple, int] = defaultdict(int)
_POOLS_LOCK = threading.Lock()
WARM_AFTER = 2  # lone determinations of one policy and readings before a process keeps Controls ready
WARM_POOLS = 4  # pools started that way at most (prepared() starts more when asked)


def _key(kb: KnowledgeBase, readings: dict[str, str] | None) -> tuple:
    return kb, tuple(sorted((readings or {}).items()))


def prepared(kb: KnowledgeBase, readings: dict[str, str] | None = None, size: int = 2) -> Prepared:
    """The process's prepared Controls for a policy and readings, started on the first call.

    A long-lived process (a service, a notebook) may call it at start-up; otherwise the second lone
    determination of the same policy and readings starts it, so that a one-shot CLI run never
    pays for Controls it would not use."""
    key = _key(kb, readings)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = Prepared(kb, readings, size)
        return pool


def _pool(kb: KnowledgeBase, readings: dict[str, str] | None) -> Prepared | None:
    key = _key(kb, readings)
    pool = _POOLS.get(key)
    if pool is None:
        _LONE[key] += 1
        if _LONE[key] >= WARM_AFTER and len(_POOLS) < WARM_POOLS:
            pool = prepared(kb, readings)
    return pool


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS.values()):
        pool.close()


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
    asked, decision = decision, _decision(full, decision)
    if len(cases) > PER_CONTROL:
        return [answer for start in range(0, len(cases), PER_CONTROL)
                for answer in solve_many(kb, cases[start:start + PER_CONTROL], readings, full, asked)]
    if len(cases) < 2:  # alone, a case grounds faster in the plain rules than in the tagged ones
        return [_solved(kb, case, readings, full, decision, asked) for case in cases]
    program = kb.decision_case_program if decision else kb.case_program
    ctl = case_control(kb, cases, readings, decision)
    ctl.ground([("base", [])])
    models = _models(ctl, full)
    if len(models) != 1:  # the cases' answer sets multiply: find out case by case
        return [_solved(kb, case, readings, full, decision, decision) for case in cases]
    shared: list[tuple[str, tuple]] = []
    own: list[list[tuple[str, tuple]]] = [[] for _ in cases]
    for sym in models[0]:
        name, args = _atom(sym)
        if name in program.tagged and (name, len(args)) not in program.once:
            own[_number(args[0])].append((name, args[1:]))
        elif name != CASE:
            shared.append((name, args))
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
