"""Comparing two policies: the differences between the plan's policy and the LCD, each with a witness
decided under both, the audit table, the VERIFY readings they rest on, and the new differences a
deliberately altered copy of the LCD shows."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from kbquery import compare, decide, decide_many, qa
from kbquery.cli import EXIT_INCOMPLETE, main
from kbquery.knowledge import kb_root, knowledge_base

PLAN, LCD = "MC.CP.MP.166", "L39383"


@pytest.fixture(scope="module")
def comparison():
    a, b = knowledge_base(PLAN), knowledge_base(LCD)
    c = compare.run(a, b)  # bounded in solver conflicts: the same report on any machine
    compare.verify(c, a, b)
    return c


def untimed(data: dict) -> dict:
    return {k: v for k, v in json.loads(json.dumps(data)).items() if k not in qa.TIMING}


def differences(c, **fields):
    return [d for d in c.differences if all(getattr(d, k) == v for k, v in fields.items())]


def criterion(c, direction, side, cid):
    found = [w for w in c.criteria if w.criterion == {"direction": direction, "side": side, "id": cid}]
    assert len(found) == 1, f"no witness of {side} {cid} making a difference ({direction})"
    return found[0]


def decided_both(case):
    return decide(case, kb=knowledge_base(PLAN)), decide(case, kb=knowledge_base(LCD))


def test_the_search_is_exhaustive_and_every_witness_decides_as_claimed(comparison):
    assert comparison.exhaustive
    assert comparison.differences and comparison.criteria
    for w in comparison.witnesses:
        assert w.verified, w.case
        assert "policy" not in w.case
        a, b = decided_both(w.case)  # independently of compare.verify
        assert (a.request_kind, a.determination) == (w.claim["a"]["request_kind"], w.claim["a"]["determination"])
        assert (b.request_kind, b.determination) == (w.claim["b"]["request_kind"], w.claim["b"]["determination"])
    assert all(d.witness and d.witness.minimal for d in comparison.differences)


def test_nerve_blocks_denied_by_the_plan_are_covered_by_the_lcd(comparison):
    found = differences(comparison, family="64451", kind_a="nerve_block", determination_a="not_medically_necessary",
                        determination_b="medically_necessary")
    assert found and {d.direction for d in found} == {"a_denies_b_approves"}
    for d in found:
        assert d.witness.case["request"]["code"] == "64451"
        a, b = decided_both(d.witness.case)
        assert a.unmet == ["VI"] and b.determination == "medically_necessary"
    row = next(r for r in comparison.audit if r["kind_a"] == "nerve_block")
    assert "stricter" in row["classes"] and row["counts"]["stricter"] >= 1


def test_a_third_diagnostic_injection(comparison):
    # The plan counts SIJ injections, the LCD sessions (days, nerve blocks among them): what is the
    # third diagnostic injection for one is a first or second diagnostic session for the other.
    third = [d for d in comparison.differences if "third_diagnostic" in (d.kind_a, d.kind_b) and d.kind_a != d.kind_b]
    assert {d.direction for d in third} >= {"a_denies_b_approves", "a_approves_b_denies"}
    plan_third = differences(comparison, kind_a="third_diagnostic", determination_b="medically_necessary")
    assert plan_third
    for d in plan_third:
        a, b = decided_both(d.witness.case)
        assert (a.request_kind, a.determination) == ("third_diagnostic", "not_medically_necessary")
        assert b.request_kind in ("initial_diagnostic", "second_diagnostic")
    assert criterion(comparison, "a_denies_b_approves", "a", "II").verified


def test_bilateral_injections_under_one_injection_per_visit(comparison):
    w = criterion(comparison, "a_denies_b_approves", "a", "I.A")
    assert w.verified and w.case["request"]["side"] == "bilateral"
    a, b = decided_both(w.case)
    assert "I.A" in a.unmet and b.determination == "medically_necessary"
    assert w.case["request"]["bilateral_indicated"] is True  # the LCD: allowed when clinically indicated
    # ... which the LCD's register marks as flexibility the LCD allows: a plan may set its own criterion.
    assert w.flexibility == ["bilateral_indication"]
    assert compare.classify(w) == "flexibility"


def test_the_repeat_therapeutic_limits_differ(comparison):
    # The LCD: at most 4 therapeutic sessions in any rolling 12 months (1b.3); the plan: fewer than
    # four at the same site (III.D), so alternating sides passes the plan and not the LCD.
    lcd = criterion(comparison, "a_approves_b_denies", "b", "1b.3")
    a, b = decided_both(lcd.case)
    assert a.determination == "medically_necessary" and "1b.3" in b.unmet
    therapeutic = [p for p in lcd.case["prior_procedures"] if p.get("purpose") == "therapeutic"]
    assert len(therapeutic) >= 4
    plan = criterion(comparison, "a_denies_b_approves", "a", "III.D")
    a, b = decided_both(plan.case)
    assert "III.D" in a.unmet and b.determination == "medically_necessary"


def test_findings_say_which_rest_on_a_verify_reading(comparison):
    markers = {r.name for (r,) in knowledge_base(LCD).static("verify", 1)}
    assert markers >= {"axial", "provocation_tests", "provocation_list", "other_pain_generators"}
    resting = [w for w in comparison.witnesses if w.rests_on]
    assert resting
    for w in resting[:10]:
        for r in w.rests_on:
            assert r["side"] == "b" and r["reading"] in markers and r["reading"] in w.verify_readings["b"]
            again = decide(w.case, kb=knowledge_base(LCD), readings={r["reading"]: r["choice"]})
            assert again.determination == r["determination"] != w.claim["b"]["determination"]
    assert any(row["rests_on"] for row in comparison.audit)  # an alternative decides otherwise
    assert any(row["documentation"] for row in comparison.audit)  # ... or asks for a fact the witness lacks


def test_the_audit_table_comes_first_and_classifies_every_kind(comparison):
    text = compare.markdown(comparison)
    assert text.splitlines()[0] == f"# Policy comparison: {PLAN} against {LCD}"
    first_table = text.index("\n| ")
    assert text.index("## Audit") < first_table < text.index("## Differences")
    kinds = {(r["family"], r["kind_a"]) for r in comparison.audit}
    assert ("64451", "nerve_block") in kinds and ("27096/G0260", "initial_diagnostic") in kinds
    for row in comparison.audit:
        assert row["classes"] and set(row["classes"]) <= set(compare.CLASSES)
        if row["counts"]["stricter"]:
            assert set(row["classes"]) & {"stricter", "flexibility"}
        if "fully_established" in row["classes"]:
            assert row["classes"] == ["fully_established"] and row["counts"]["stricter"] == 0
    neurotomy = next(r for r in comparison.audit if r["kind_a"] == "radiofrequency_neurotomy")
    assert neurotomy["classes"] == ["fully_established"]


def test_the_report_is_the_same_across_runs_and_its_witnesses_decide_as_indexed(comparison, tmp_path):
    result = CliRunner().invoke(main, ["compare", PLAN, LCD, "--format", "json", "--witnesses", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == '{"exhaustive": true,'
    assert untimed(json.loads(result.output)) == untimed(comparison.to_dict())
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index) == len(comparison.witnesses)
    cases = [json.loads((tmp_path / entry["file"]).read_text()) for entry in index]
    for policy in (PLAN, LCD):
        for entry, d in zip(index, decide_many(cases, kb=knowledge_base(policy))):
            assert (d.request_kind, d.determination) == (entry[policy]["request_kind"], entry[policy]["determination"])


@pytest.fixture(scope="module")
def altered(tmp_path_factory):
    """A copy of kb/ whose LCD asks 80% diagnostic relief instead of 75% and no longer covers G0260,
    compared with the plan's policy (two prior procedures at most, to keep the test short)."""
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(kb_root(), root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    history = root / LCD / "history.lp"
    text = history.read_text()
    assert "threshold(diagnostic_relief, 75)." in text
    history.write_text(text.replace("threshold(diagnostic_relief, 75).", "threshold(diagnostic_relief, 80)."))
    request = root / LCD / "request.lp"
    text = request.read_text()
    assert 'sij_injection_code("G0260").' in text
    request.write_text(text.replace('sij_injection_code("G0260").', ""))
    result = CliRunner().invoke(main, ["compare", PLAN, LCD, "--kb-root", str(root), "--max-procedures", "2",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_an_altered_lcd_shows_its_new_differences(comparison, altered):
    assert altered["exhaustive"]
    assert all(w["verified"] for w in altered["criteria"]) and all(d["witness"]["verified"] for d in altered["differences"])
    # G0260 no longer covered: its own family, outside the LCD where the plan decides it.
    rows = {(r["family"], r["kind_a"]): r for r in altered["audit"]}
    assert ("G0260", "initial_diagnostic") in rows and ("27096", "initial_diagnostic") in rows
    assert "silent" in rows[("G0260", "initial_diagnostic")]["classes"]
    assert any(d["family"] == "G0260" and d["kind_b"] == "out_of_scope" and d["determination_b"] == "not_addressed"
               for d in altered["differences"])
    assert not any(r["family"] == "G0260" for r in comparison.audit)
    # 80% diagnostic relief: a response of 75% is positive for the plan and no longer for the LCD.
    before = {(w.criterion["direction"], w.criterion["side"], w.criterion["id"]) for w in comparison.criteria}
    after = {(w["criterion"]["direction"], w["criterion"]["side"], w["criterion"]["id"]) for w in altered["criteria"]}
    new = after - before
    assert ("a_approves_b_denies", "b", "1b.1") in new, sorted(new)
    w = next(w for w in altered["criteria"] if w["criterion"]["id"] == "1b.1"
             and w["criterion"]["direction"] == "a_approves_b_denies")
    scores = [s["score"] for p in w["case"]["prior_procedures"] for s in p.get("pain", {}).get("after", [])]
    assert 2 in scores  # 8 -> 2: 75% relief


def test_a_comparison_stopped_at_its_bound_says_so_first_and_fails():
    args = ["compare", PLAN, LCD, "--max-procedures", "0", "--max-conflicts", "5"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    assert result.output.splitlines()[0].startswith('{"exhaustive": false, "incomplete": "NOT EXHAUSTIVE')
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_INCOMPLETE
    assert result.output.splitlines()[0].startswith(f"# Policy comparison: {PLAN} against {LCD}: **NOT EXHAUSTIVE")


def test_readings_are_checked_against_each_side():
    assert CliRunner().invoke(main, ["compare", PLAN, LCD, "--reading-b", "axial=nonsense"]).exit_code == 2
    assert CliRunner().invoke(main, ["compare", PLAN, LCD, "--reading", "no_such_reading=x"]).exit_code == 2
    assert CliRunner().invoke(main, ["compare", PLAN, "NOPE"]).exit_code == 2


def test_the_shared_space_takes_every_value_either_policy_tries():
    a, b = knowledge_base(PLAN), knowledge_base(LCD)
    space = compare.shared_space([a, b])
    skipped = {str(s.arguments[0]) for s in space.facts if s.match("qa_skip", 1)}
    assert skipped == {"(policy,)"}  # a field either policy reads is searched
    families = compare.code_families([a, b], ["27096", "G0260", "64451", "64625", "99213"])
    assert families["27096"] == families["G0260"] == "27096/G0260" and families["99213"] == "99213"
    assert space.bounds[("prior_procedures",)] == 6 and space.statements  # the symmetry both policies allow
