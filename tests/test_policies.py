"""Two policies over one clinical vocabulary: the LCD's suite covers its criteria, every LCD
determination says it rests on a restatement, one case decides under either policy, the default
policy is named in kb/, and `kbquery policies` lists what is installed."""

from __future__ import annotations

import copy
import io
import json
import tokenize
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CASES, ROOT, load_case_file
from kbquery import CaseError, decide
from kbquery.cli import main
from kbquery.knowledge import DEFAULT_POLICY, UnknownPolicy, default_policy, knowledge_base, policies

LCD = "L39383"
LCD_FILES = sorted((CASES / LCD).rglob("*.json"))
RESTATED = ROOT / json.loads((ROOT / "kb" / LCD / "policy.json").read_text(encoding="utf-8"))["source"]
# Statuses a criterion can never take, as kbquery qa --policy L39383 proves: 2.1 applies to 64625 alone.
NEVER = {"2.1": {"met", "unknown"}}


def lcd_kb():
    return knowledge_base(LCD)


def suite_statuses() -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for path in LCD_FILES:
        for cid, status in load_case_file(path)["expect"].get("statuses", {}).items():
            seen.setdefault(cid, set()).add(status)
    return seen


def test_both_policies_are_installed_and_the_default_is_named_in_kb():
    assert {LCD, "MC.CP.MP.166"} <= set(policies())
    assert DEFAULT_POLICY == default_policy()
    marked = [p for p in policies() if json.loads((knowledge_base(p).folder / "policy.json").read_text()).get("default")]
    assert marked == [DEFAULT_POLICY]


def test_a_kb_without_one_default_is_refused(tmp_path):
    for name in ("A", "B"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "policy.json").write_text(json.dumps({"id": name, "default": True}))
    with pytest.raises(UnknownPolicy, match="exactly one policy"):
        default_policy(tmp_path)


def test_both_policies_share_one_case_schema():
    assert knowledge_base(LCD).schema == knowledge_base("MC.CP.MP.166").schema
    assert set(knowledge_base(LCD).schema["properties"]["policy"]["enum"]) == set(policies())


def test_the_suite_names_the_lcd_in_every_case():
    assert LCD_FILES
    for path in LCD_FILES:
        assert load_case_file(path)["case"]["policy"] == LCD, path


def test_every_lcd_criterion_appears_in_the_suite():
    missing = set(lcd_kb().clauses) - set(suite_statuses())
    assert not missing, f"no suite case under tests/cases/{LCD} states these criteria: {sorted(missing)}"


def test_every_lcd_criterion_is_met_not_met_and_unknown_somewhere_in_the_suite():
    seen = suite_statuses()
    for cid in lcd_kb().clauses:
        wanted = {"met", "not_met", "unknown"} - NEVER.get(cid, set())
        assert wanted <= seen.get(cid, set()), f"{cid}: the suite never shows {sorted(wanted - seen.get(cid, set()))}"


@pytest.mark.parametrize("path", [*LCD_FILES, ROOT / "examples" / "lcd-therapeutic.json"],
                         ids=lambda p: p.name)
def test_every_lcd_determination_names_the_restatement(path):
    spec = load_case_file(path)
    case, readings = (spec["case"], spec.get("readings")) if "case" in spec else (spec, None)
    d = decide(case, readings=readings)
    assert d.policy["id"] == LCD
    notice = [r for r in d.interpretation if r["id"] == "restatement"]
    assert notice and "secondary sources" in notice[0]["meaning"]


def test_the_restatement_is_in_the_lcd_metadata_only():
    assert "restatement" in lcd_kb().restatement
    assert knowledge_base("MC.CP.MP.166").restatement is None


def test_every_verify_item_is_a_switchable_reading():
    body = RESTATED.read_text(encoding="utf-8").split("\n## ", 1)[1]  # after the introduction
    verify = [r for r in lcd_kb().readings.values() if r.question.startswith("VERIFY")]
    assert len(verify) == body.count("VERIFY")
    assert all(len(r.options) >= 2 for r in verify)


def test_one_case_decides_under_either_policy():
    case = json.loads((ROOT / "examples" / "lcd-therapeutic.json").read_text())
    lcd = decide(case)
    other = decide({**copy.deepcopy(case), "policy": "MC.CP.MP.166"})
    assert (lcd.policy["id"], other.policy["id"]) == (LCD, "MC.CP.MP.166")
    # A bilateral injection: one session under the LCD, two injections at one visit under MC.CP.MP.166 I.A.
    assert lcd.determination == "medically_necessary"
    assert "I.A" in other.unmet


def test_fields_one_policy_does_not_read_are_valid_for_it_and_unknown_keys_are_not():
    case = load_case_file(CASES / LCD / "base" / "initial-diagnostic-all-met.json")["case"]
    mc_only = {**copy.deepcopy(case), "continuation": {"pcp_notified": True},
               "member": {**case["member"], "declines_surgery": True}}
    assert decide(mc_only).determination == "medically_necessary"
    with pytest.raises(CaseError, match="injectat"):
        decide({**copy.deepcopy(case), "request": {**case["request"], "injectat": "steroid"}})


def test_the_lcd_covers_a_nerve_block_that_mc_denies():
    case = load_case_file(CASES / LCD / "codes" / "64451-diagnostic-nerve-block-met.json")["case"]
    assert decide(case).determination == "medically_necessary"
    assert decide({**case, "policy": "MC.CP.MP.166"}).determination == "not_medically_necessary"


def test_policies_command_lists_id_revision_title_source_and_restatement():
    result = CliRunner().invoke(main, ["policies", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {p["id"]: p for p in json.loads(result.output)}
    assert set(listed) == set(policies())
    assert listed[LCD]["restatement"] and listed["MC.CP.MP.166"]["restatement"] is None
    assert [p for p in listed.values() if p["default"]] == [listed[DEFAULT_POLICY]]
    for p in listed.values():
        assert p["revision"] and p["title"] and (ROOT / p["source"]).is_file()  # the text is in the repository
    text = CliRunner().invoke(main, ["policies"])
    assert text.exit_code == 0 and LCD in text.output and "restatement" in text.output


def _code_tokens(path: Path):
    """The file's tokens without its comments: the code and its strings."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [t.string for t in tokens if t.type != tokenize.COMMENT]


@pytest.mark.parametrize("folder", ["py", "explain"])
def test_no_python_of_the_package_names_a_policy(folder):
    for path in sorted((ROOT / folder).rglob("*.py")):
        code = " ".join(_code_tokens(path))
        for policy in policies():
            assert policy not in code, f"{path.relative_to(ROOT)} names {policy}"


def test_decide_takes_the_policy_from_the_case_or_from_the_option(tmp_path):
    path = ROOT / "examples" / "lcd-therapeutic.json"
    own = json.loads(CliRunner().invoke(main, [str(path), "--format", "json"]).output)
    other = json.loads(CliRunner().invoke(main, [str(path), "--format", "json", "--policy", "MC.CP.MP.166"]).output)
    assert (own["policy"]["id"], other["policy"]["id"]) == (LCD, "MC.CP.MP.166")
    assert own["determination"] != other["determination"]
