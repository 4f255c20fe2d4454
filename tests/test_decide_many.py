"""Many cases in one Control (kbquery.decide_many, kbquery.solve.solve_many) decide exactly as
each case does alone: the same determination record, the same full answer set, whatever cases
share the Control, and an error stays with the case that caused it."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import clingo
import pytest
from clingo import ast
from conftest import load_reference
from kbquery import CaseError, InternalError, decide, decide_many, knowledge_base
from kbquery.knowledge import kb_root
from kbquery.program import tag_cases
from kbquery.solve import PER_CONTROL, solve, solve_many
from kbquery.symbols import scalar_symbol

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"


def _suite() -> dict[str, list[dict]]:
    """The suite's cases grouped by the readings they are decided under."""
    groups: dict[str, list[dict]] = {}
    for path in sorted(CASES.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        groups.setdefault(json.dumps(data.get("readings") or {}, sort_keys=True), []).append(data["case"])
    return groups


SUITE = _suite()


@pytest.mark.parametrize("readings", sorted(SUITE))
def test_decide_many_gives_each_case_its_own_determination(readings):
    chosen = json.loads(readings) or None
    cases = SUITE[readings]
    shuffled = random.Random(7).sample(cases, len(cases))
    invalid = {"case_id": "bad", "request": {"date": "2026-02-30", "code": "27096"}}
    mixed = shuffled[: len(shuffled) // 2] + [invalid] + shuffled[len(shuffled) // 2:]
    many = decide_many(mixed, readings=chosen)
    assert len(many) == len(mixed)
    assert isinstance(many[len(shuffled) // 2], CaseError)
    for case, result in zip(mixed, many):
        if case is invalid:
            continue
        assert result.to_dict() == decide(case, readings=chosen).to_dict(), case["case_id"]


def test_full_answer_sets_are_the_same_as_solving_alone():
    kb = knowledge_base()
    cases = SUITE["{}"]
    for case, answer in zip(cases, solve_many(kb, cases, full=True)):
        alone = solve(kb, case, full=True)
        assert answer._index.keys() == alone._index.keys(), case["case_id"]
        for signature, args in alone._index.items():
            assert sorted(map(str, answer._index[signature])) == sorted(map(str, args)), (case["case_id"], signature)


def test_a_case_decides_the_same_with_any_companions():
    kb = knowledge_base()
    cases = SUITE["{}"]
    target = cases[0]
    alone = decide(target).to_dict()
    rng = random.Random(11)
    for _ in range(3):
        companions = rng.sample(cases[1:], 20)
        position = rng.randrange(len(companions) + 1)
        group = companions[:position] + [target] + companions[position:]
        assert decide_many(group, kb=kb)[position].to_dict() == alone


@pytest.fixture(scope="module")
def planted_kb(tmp_path_factory):
    """A copy of the rules with a kb_error and a contradiction planted on two request codes."""
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(kb_root(), root, dirs_exist_ok=True)
    rules = root / "MC.CP.MP.166" / "determination.lp"
    rules.write_text(rules.read_text() + '\nkb_error("planted") :- value((request, code), "PLANTED-ERROR").\n'
                     ':- value((request, code), "PLANTED-NONE").\n')
    return knowledge_base("MC.CP.MP.166", root)


def test_an_error_stays_with_its_case(planted_kb):
    good = SUITE["{}"][:4]
    error = {**good[0], "case_id": "error", "request": {**good[0]["request"], "code": "PLANTED-ERROR"}}
    none = {**good[1], "case_id": "none", "request": {**good[1]["request"], "code": "PLANTED-NONE"}}
    results = decide_many([good[0], error, good[1], none, good[2]], kb=planted_kb)
    assert [type(r).__name__ for r in results] == ["Determination", "InternalError", "Determination",
                                                  "InternalError", "Determination"]
    assert "planted" in str(results[1])
    assert "no answer sets" in str(results[3])
    for case, result in zip((good[0], good[1], good[2]), (results[0], results[2], results[4])):
        assert result.to_dict() == decide(case, kb=planted_kb).to_dict()
    with pytest.raises(InternalError, match="planted"):
        decide(error, kb=planted_kb)


def _parsed(text: str) -> list:
    statements: list = []
    ast.parse_string(text, statements.append)
    return statements


def test_tagging_reaches_every_atom_that_depends_on_a_case():
    program = tag_cases(_parsed("""
        fixed(a). fixed(b).
        seen(X) :- fact(X).
        both(X) :- fixed(X), seen(X).
        none(X) :- fixed(X), not seen(X).
        count(N) :- N = #count{ X : seen(X) }.
        #show both/1.
        #show pair(X, Y) : seen(X), fixed(Y).
        #show fixed/1.
    """), {"fact"})
    assert program.tagged == {"fact", "seen", "both", "none", "count", "pair"}
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in program.statements:
            builder.add(statement)
    with ctl.backend() as backend:
        for fact in ("case(1)", "case(2)", "fact(1, a)", "fact(2, b)", "fact(2, c)"):
            backend.add_rule([backend.add_atom(clingo.parse_term(fact))])
    ctl.ground([("base", [])])
    shown: list = []
    ctl.solve(on_model=lambda m: shown.extend(map(str, m.symbols(shown=True))))
    atoms = {str(a.symbol) for a in ctl.symbolic_atoms}
    assert sorted(shown) == ["both(1,a)", "both(2,b)", "fixed(a)", "fixed(b)",
                             "pair(1,a,a)", "pair(1,a,b)", "pair(2,b,a)", "pair(2,b,b)",
                             "pair(2,c,a)", "pair(2,c,b)"]
    assert {"none(1,b)", "none(2,a)", "count(1,1)", "count(2,2)"} <= atoms
    assert "none(1,a)" not in atoms and "count(1,2)" not in atoms


def test_atoms_that_depend_on_no_case_are_grounded_once():
    """A predicate with rules of both kinds: what no case reaches is grounded once, untagged, and
    every rule that reads the predicate reads both forms (positive, negated, in a condition)."""
    program = tag_cases(_parsed("""
        node(a).
        part(a, b).
        part(a, X) :- fact(X).
        seen(X) :- fact(X).
        has(N) :- part(N, _).
        lacks(N) :- node(N), not part(N, c).
        every(N) :- node(N), seen(C) : part(N, C).
        parts(N, M) :- node(N), M = #count{ C : part(N, C) }.
        #show part/2.
    """), {"fact"})
    assert program.once == {("part", 2)}
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in program.statements:
            builder.add(statement)
    with ctl.backend() as backend:
        for fact in ("case(1)", "case(2)", "fact(1, b)", "fact(2, c)"):
            backend.add_rule([backend.add_atom(clingo.parse_term(fact))])
    ctl.ground([("base", [])])
    shown: list = []
    ctl.solve(on_model=lambda m: shown.extend(map(str, m.symbols(shown=True))))
    atoms = {str(a.symbol) for a in ctl.symbolic_atoms if a.is_fact or ctl.symbolic_atoms[a.symbol] is not None}
    assert sorted(shown) == ["part(1,a,b)", "part(2,a,c)", "part(a,b)"]
    assert {"has(1,a)", "has(2,a)", "lacks(1,a)", "every(1,a)", "parts(1,a,1)", "parts(2,a,2)"} <= atoms
    assert not {"lacks(2,a)", "every(2,a)", "parts(1,a,2)"} & atoms


@pytest.mark.parametrize(("text", "message"), [
    ("p(X) :- case(X).", "reserves"),
    ("p(CASE) :- q(CASE).", "reserves"),
    ("#external e(X) : q(X).", "cannot rewrite"),
    ("#show X : q(X).", "must be a function"),
])
def test_tagging_refuses_what_it_cannot_rewrite(text, message):
    with pytest.raises(ValueError, match=message):
        tag_cases(_parsed(text), {"q"})


def test_random_cases_decide_together_as_alone():
    """Generated cases (bench/reference.py's generator), in windows of every size up to 60."""
    reference = load_reference()
    rng = random.Random(30)
    cases = [reference.random_case(rng) for _ in range(300)]
    start = 0
    while start < len(cases):
        window = cases[start:start + rng.randint(1, 60)]
        for case, result in zip(window, decide_many(window)):
            assert result.to_dict() == decide(case).to_dict(), json.dumps(case)
        start += len(window)


def test_more_cases_than_a_control_holds_decide_as_in_small_windows():
    """Past PER_CONTROL the cases are split among Controls (here 200, 200 and 50); each record is the
    one the case gets in a window of 30 (which the test above holds to deciding alone)."""
    reference = load_reference()
    rng = random.Random(31)
    cases = [reference.random_case(rng) for _ in range(2 * PER_CONTROL + 50)]
    small = [r.to_dict() for start in range(0, len(cases), 30) for r in decide_many(cases[start:start + 30])]
    assert [r.to_dict() for r in decide_many(cases)] == small


def test_values_kept_as_symbols_stay_apart():
    """The symbols of values are kept per process (kbquery.symbols): true is never the number 1, nor
    the text "1" a name, whichever is asked for first; and a case reads back the value it gave."""
    asked = [(True, False), (1, False), (1.0, False), ("1", False), ("left", True), ("left", False), (False, False), (0, False)]
    expected = [clingo.Function("true"), clingo.Number(1), clingo.Number(1), clingo.String("1"),
                clingo.Function("left"), clingo.String("left"), clingo.Function("false"), clingo.Number(0)]
    for order in (asked, asked[::-1]):
        scalar_symbol.cache_clear()
        got = {(type(v), v, closed): scalar_symbol(v, closed=closed) for v, closed in order}
        assert [got[(type(v), v, c)] for v, c in asked] == expected
