"""The derived programs kept on disk (kbquery.derived): what a process reads back is what it would
have derived, and a torn, foreign or switched-off cache only costs time."""

from __future__ import annotations

import json

import pytest

from kbquery import decide, derived
from kbquery.knowledge import KnowledgeBase, policies
from kbquery.solve import _staged

ARTIFACTS = {
    "case_program": lambda kb: kb.case_program.statements,
    "decision": lambda kb: kb.decision_statements,
    "decision_case_program": lambda kb: kb.decision_case_program.statements,
    "staged": lambda kb: _staged(kb),
}


def fresh(policy: str) -> KnowledgeBase:
    """A knowledge base with nothing derived yet in this process (knowledge_base() keeps one)."""
    _staged.cache_clear()
    return KnowledgeBase(policy)


@pytest.mark.parametrize("policy", policies())
def test_what_is_read_back_is_what_is_derived(policy, tmp_path, monkeypatch):
    monkeypatch.setenv("KBQUERY_CACHE", "off")
    made = {name: [str(s) for s in get(fresh(policy))] for name, get in ARTIFACTS.items()}
    made_case = fresh(policy).decision_case_program
    monkeypatch.setenv("KBQUERY_CACHE", str(tmp_path))
    for get in ARTIFACTS.values():
        get(fresh(policy))  # writes each entry
    assert {p.name.split("-")[0] for p in tmp_path.iterdir()} == set(ARTIFACTS)
    for name, get in ARTIFACTS.items():
        assert [str(s) for s in get(fresh(policy))] == made[name], name
    read = fresh(policy).decision_case_program
    assert (read.tagged, read.once) == (made_case.tagged, made_case.once)


def test_a_torn_or_foreign_entry_is_derived_again(tmp_path, monkeypatch):
    monkeypatch.setenv("KBQUERY_CACHE", str(tmp_path))
    policy = policies()[0]
    expected = [str(s) for s in fresh(policy).decision_statements]
    (entry,) = tmp_path.glob("decision-*.json")
    for damage in ('{"key": "', json.dumps({"key": "another", "statements": "a.", "meta": {}})):
        entry.write_text(damage, encoding="utf-8")
        assert [str(s) for s in fresh(policy).decision_statements] == expected
        assert json.loads(entry.read_text(encoding="utf-8"))["statements"].count("\n") + 1 == len(expected)


def test_changed_rules_never_meet_an_old_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("KBQUERY_CACHE", str(tmp_path))
    calls = []
    first = derived.derived("t", "a :- b.", lambda: (calls.append(1) or [], {"n": 1}))
    again = derived.derived("t", "a :- b.", lambda: (calls.append(2) or [], {"n": 2}))
    other = derived.derived("t", "a :- c.", lambda: (calls.append(3) or [], {"n": 3}))
    assert (first[1], again[1], other[1], calls) == ({"n": 1}, {"n": 1}, {"n": 3}, [1, 3])
    assert len(list(tmp_path.glob("t-*.json"))) == 2


def test_switched_off_or_unwritable_it_derives_and_decides_as_ever(tmp_path, monkeypatch):
    case = {"case_id": "x", "request": {"date": "2026-03-02", "code": "99213"}}
    monkeypatch.chdir(tmp_path)  # where a cache named "off" would land
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # where the default one would
    monkeypatch.setenv("KBQUERY_CACHE", "off")
    assert fresh(policies()[0]).decision_statements and not any(tmp_path.rglob("*"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("KBQUERY_CACHE", str(blocked / "cache"))
    kb = fresh(policies()[0])
    assert kb.decision_case_program.statements
    assert decide(case, kb=kb).determination == "not_addressed"
