"""Reading diffs: the kinds of request a switched reading decides differently, each with a witness."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kbquery import decide, diff, qa
from kbquery.cli import EXIT_INCOMPLETE, main
from kbquery.knowledge import knowledge_base


@pytest.fixture(scope="module")
def bilateral():
    kb = knowledge_base()
    result = diff.run(kb, {"bilateral_injection": "one_injection"})
    diff.verify(result, kb)
    return result


def test_switching_a_reading_finds_the_changed_kinds(bilateral):
    assert bilateral.exhaustive
    changed = {(c.base["request_kind"], c.base["determination"], c.switched["determination"]) for c in bilateral.changes}
    assert ("initial_diagnostic", "not_medically_necessary", "medically_necessary") in changed
    assert ("repeat_therapeutic", "not_medically_necessary", "medically_necessary") in changed


def test_every_witness_decides_both_ways(bilateral):
    for change in bilateral.changes:
        assert change.verified
        before = decide(change.witness)
        after = decide(change.witness, readings={"bilateral_injection": "one_injection"})
        assert before.determination != after.determination
        assert change.witness["request"]["side"] == "bilateral"  # the clause the reading is about


def test_a_reading_that_changes_nothing_reported_as_such():
    kb = knowledge_base()
    # Under general_criteria=own_section_only the base already skips I for II; switching it again changes nothing.
    result = diff.run(kb, {"general_criteria": "own_section_only"}, base={"general_criteria": "own_section_only"})
    assert result.exhaustive and result.changes == []


def test_only_reading_dependent_predicates_are_copied():
    kb = knowledge_base()
    from clingo import ast

    statements = []
    ast.parse_files([str(p) for p in kb.rule_files], statements.append)
    dependent = diff.reading_dependent(statements)
    assert {"chosen", "status", "determination"} <= dependent
    assert "kind" not in dependent and "value" not in dependent  # classification does not depend on readings


def test_cli_diff_json():
    result = CliRunner().invoke(main, ["diff", "--reading", "third_diagnostic=case_by_case_review", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == '{"exhaustive": true,'
    data = json.loads(result.output)
    assert data["exhaustive"]
    assert {(c["base"]["determination"], c["switched"]["determination"]) for c in data["changes"]} >= {
        ("not_medically_necessary", "case_by_case_review")}
    assert all(c["verified"] for c in data["changes"])


def test_cli_diff_needs_a_reading():
    assert CliRunner().invoke(main, ["diff"]).exit_code == 2
    assert CliRunner().invoke(main, ["diff", "--reading", "months=days_30"]).exit_code == 2


def test_two_runs_give_the_same_diff(bilateral):
    kb = knowledge_base()
    again = diff.run(kb, {"bilateral_injection": "one_injection"})
    diff.verify(again, kb)
    untimed = [{k: v for k, v in d.to_dict().items() if k not in qa.TIMING} for d in (again, bilateral)]
    assert untimed[0] == untimed[1]
    assert all(c.minimal for c in bilateral.changes)


def test_a_diff_stopped_at_its_bound_says_so_first_and_fails():
    args = ["diff", "--reading", "bilateral_injection=one_injection", "--max-procedures", "1", "--max-conflicts", "20"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == EXIT_INCOMPLETE
    assert result.output.splitlines()[0].startswith('{"exhaustive": false, "incomplete": "NOT EXHAUSTIVE')
    assert not json.loads(result.output)["exhaustive"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_INCOMPLETE
    assert result.output.splitlines()[0].startswith("# Reading diff: bilateral_injection=one_injection against "
                                                    "the register's defaults: **NOT EXHAUSTIVE")
