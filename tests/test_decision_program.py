"""The decision-only program (kbquery.program.decision_program) decides exactly as the whole one:
the same shown atoms, hence the same determination record, on every suite case of both policies,
on generated cases, alone and many to a Control; and a prepared Control (kbquery.solve.Prepared)
gives the same answer as a fresh one."""

from __future__ import annotations

import json
import random
from pathlib import Path

import clingo
import pytest
from clingo import ast
from conftest import load_reference
from kbquery import decide, decide_many, knowledge_base
from kbquery.case import case_document, validate
from kbquery.determination import read
from kbquery.knowledge import policies
from kbquery.program import decision_program
from kbquery.solve import Prepared, prepared, solve, solve_many

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"


def _shown(answer) -> list[str]:
    return sorted(f"{name}{args}" for (name, _), rows in answer._index.items() for args in map(str, rows))


def _suite() -> list[tuple[str, dict, dict]]:
    found = []
    for path in sorted(CASES.rglob("*.json")):
        case, readings, _ = case_document(json.loads(path.read_text(encoding="utf-8")))
        found.append((str(path.relative_to(CASES)), case, readings or {}))
    return found


SUITE = _suite()


def _kb(case: dict):
    return knowledge_base(case.get("policy") or knowledge_base().id)


def _both(kb, case: dict, readings: dict) -> tuple:
    """(shown atoms, record) from the whole program and from the decision-only one."""
    valid = validate(case, kb.schema)
    whole, decision = solve(kb, valid, readings, decision=False), solve(kb, valid, readings, decision=True)
    return ((_shown(whole), read(whole, kb, valid, readings).to_dict()),
            (_shown(decision), read(decision, kb, valid, readings).to_dict()))


@pytest.mark.parametrize("name", [name for name, _, _ in SUITE])
def test_every_suite_case_decides_the_same(name):
    _, case, readings = next(item for item in SUITE if item[0] == name)
    whole, decision = _both(_kb(case), case, readings)
    assert decision == whole


def test_both_policies_are_in_the_suite():
    assert {_kb(case).id for _, case, _ in SUITE} == set(policies())


def test_decide_and_decide_many_give_the_decision_only_programs_atoms():
    _, case, readings = SUITE[0]
    kb = _kb(case)
    expected = _shown(solve(kb, validate(case, kb.schema), readings, decision=True))
    assert _shown(decide(case, readings=readings or None).answer) == expected
    assert _shown(decide_many([case, case], readings=readings or None)[1].answer) == expected


@pytest.mark.parametrize("policy", policies())
def test_generated_cases_decide_the_same_alone_and_together(policy):
    kb = knowledge_base(policy)
    reference = load_reference()
    rng = random.Random(16)
    cases = [validate(reference.random_case(rng), kb.schema) for _ in range(100)]
    for case in cases[:30]:
        whole, decision = _both(kb, case, {})
        assert decision == whole, json.dumps(case)
    whole = solve_many(kb, cases, decision=False)
    decision = solve_many(kb, cases, decision=True)
    for case, a, b in zip(cases, whole, decision):
        assert _shown(b) == _shown(a), json.dumps(case)


def _parsed(text: str) -> list:
    statements: list = []
    ast.parse_string(text, statements.append)
    return statements


def _model(statements: list) -> list[str]:
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in statements:
            builder.add(statement)
    ctl.ground([("base", [])])
    atoms: list = []
    ctl.solve(on_model=lambda m: atoms.extend(map(str, m.symbols(atoms=True))))
    return sorted(atoms)


def test_what_no_show_reads_goes_and_words_are_derived_only_where_shown():
    program = _parsed("""
        node(a; b; c).
        failed(b).
        reason(N) :- failed(N).
        label(a, "A"). label(b, "B").
        label(N, T) :- node(N), extra(N, T).
        extra(c, "C").
        unused(N) :- node(N).
        #show reason/1.
        #show label(N, T) : reason(N), label(N, T).
    """)
    decision = decision_program(program)
    atoms = _model(decision)
    assert "unused(a)" not in atoms
    assert [a for a in atoms if a.startswith("label")] == ['label(b,"B")']
    shown = []
    for statements in (program, decision):
        ctl = clingo.Control(["--warn=none"])
        with ast.ProgramBuilder(ctl) as builder:
            for statement in statements:
                builder.add(statement)
        ctl.ground([("base", [])])
        ctl.solve(on_model=lambda m: shown.append(sorted(map(str, m.symbols(shown=True)))))
    assert shown[0] == shown[1] == ['label(b,"B")', "reason(b)"]


def test_words_read_by_a_rule_are_left_whole():
    program = _parsed("""
        node(a; b).
        reason(b).
        label(a, "A"). label(b, "B").
        labelled(N) :- label(N, _).
        #show labelled/1.
        #show label(N, T) : reason(N), label(N, T).
    """)
    labels = [a for a in _model(program) if a.startswith(("label", "labelled"))]
    assert [a for a in _model(decision_program(program)) if a.startswith(("label", "labelled"))] == labels
    assert len(labels) == 4


@pytest.mark.parametrize("policy", policies())
def test_prepared_controls_decide_as_a_fresh_one(policy):
    """Every second suite case of the policy, under its own readings, from Controls prepared ahead."""
    kb = knowledge_base(policy)
    pools: dict = {}
    try:
        for _, case, readings in SUITE[::2]:
            if _kb(case).id != kb.id:
                continue
            key = json.dumps(readings, sort_keys=True)
            pool = pools.get(key) or pools.setdefault(key, Prepared(kb, readings, size=1))
            valid = validate(case, kb.schema)
            assert _shown(pool.solve(valid)) == _shown(solve(kb, valid, readings, decision=False)), case["case_id"]
    finally:
        for pool in pools.values():
            pool.close()


def test_lone_determinations_warm_a_pool_that_decide_then_uses():
    _, case, _ = next(item for item in SUITE if not item[2])
    kb = _kb(case)
    pool = prepared(kb)
    assert prepared(kb) is pool
    taken = []
    take = pool.take
    pool.take = lambda: taken.append(1) or take()
    try:
        decide(case)
    finally:
        del pool.take
    assert taken == [1]
