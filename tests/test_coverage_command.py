"""`kbquery coverage`: status counts per criterion, MC/DC pairs, missing pairs constructed, exit status."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CASES
from kbquery.coverage import coverage, coverage_command, decide_document, field_mutations, is_mcdc_pair, ordered_criteria
from kbquery.knowledge import knowledge_base


def variant(case: dict, change) -> dict:
    new = copy.deepcopy(case)
    change(new)
    return new


def therapy_too_short(case):
    case["conservative_therapy"]["end_date"] = "2025-11-20"  # 20 days: I.E not met


def outcome_undocumented(case):
    del case["conservative_therapy"]["outcome"]  # I.E unknown


def bilateral(case):
    case["request"]["side"] = "bilateral"  # I.A not met


def both(case):
    bilateral(case)
    therapy_too_short(case)


VARIANTS = {"all-met": lambda case: None, "ie-not-met": therapy_too_short, "ie-unknown": outcome_undocumented,
            "ia-not-met": bilateral, "ia-and-ie-not-met": both}


def write_folder(folder: Path, example_case: dict, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        case = variant(example_case, VARIANTS[name])
        case["case_id"] = name
        (folder / f"{name}.json").write_text(json.dumps({"description": name, "case": case, "expect": {}}))
    return folder


def run(*args):
    return CliRunner().invoke(coverage_command, [str(a) for a in args])


def criterion(report: dict, cid: str) -> dict:
    return next(c for c in report["criteria"] if c["id"] == cid)


@pytest.fixture
def folder(tmp_path, example_case):
    return write_folder(tmp_path / "cases", example_case, ["all-met", "ie-not-met", "ie-unknown", "ia-not-met"])


def test_counts_per_criterion(folder):
    report = coverage(folder)
    assert report["cases"] == 4 and report["skipped"] == []
    assert [c["id"] for c in report["criteria"]] == ordered_criteria("MC.CP.MP.166")
    assert {k: criterion(report, "I.E")[k] for k in ("met", "not_met", "unknown")} == {"met": 2, "not_met": 1, "unknown": 1}
    assert {k: criterion(report, "I.A")[k] for k in ("met", "not_met", "unknown")} == {"met": 3, "not_met": 1, "unknown": 0}
    # III.A is not evaluated for an initial diagnostic request: counted nowhere
    assert {k: criterion(report, "III.A")[k] for k in ("met", "not_met", "unknown")} == {"met": 0, "not_met": 0, "unknown": 0}


def test_mcdc_pair_found_for_the_criterion_that_alone_flips_the_determination(folder):
    report = coverage(folder)
    pair = criterion(report, "I.E")["mcdc_pair"]
    assert [Path(f).name for f in pair["files"]] == ["all-met.json", "ie-not-met.json"]
    assert pair["statuses"] == ["met", "not_met"]
    assert pair["determinations"] == ["medically_necessary", "not_medically_necessary"]
    assert [Path(f).name for f in criterion(report, "I.A")["mcdc_pair"]["files"]] == ["all-met.json", "ia-not-met.json"]
    assert criterion(report, "I.B")["mcdc_pair"] is None
    assert "I.B" in report["missing"]["mcdc_pair"] and "I.E" not in report["missing"]["mcdc_pair"]
    assert report["missing"]["unknown"][:1] == ["I.A"]  # no case leaves I.A unknown
    assert "I.E" not in report["missing"]["unknown"]


def test_no_pair_when_another_criterion_also_changes(tmp_path, example_case):
    # ie-not-met and ia-not-met differ in I.A and I.E at once
    folder = write_folder(tmp_path / "cases", example_case, ["ie-not-met", "ia-not-met"])
    report = coverage(folder)
    assert "I.E" in report["missing"]["mcdc_pair"] and "I.A" in report["missing"]["mcdc_pair"]


def test_no_pair_when_the_determination_does_not_flip(tmp_path, example_case):
    # I.E alone differs, but both are not medically necessary because of I.A
    folder = write_folder(tmp_path / "cases", example_case, ["ia-not-met", "ia-and-ie-not-met"])
    assert criterion(coverage(folder), "I.E")["mcdc_pair"] is None


def test_is_mcdc_pair_needs_c_alone_to_change_and_the_determination_to_flip(example_case):
    decided = {name: decide_document(variant(example_case, change), Path(name)) for name, change in VARIANTS.items()}
    assert is_mcdc_pair(decided["all-met"], decided["ie-not-met"], "I.E")
    assert is_mcdc_pair(decided["ie-unknown"], decided["all-met"], "I.E")
    assert not is_mcdc_pair(decided["all-met"], decided["ie-not-met"], "I.A")  # I.A is met in both
    assert not is_mcdc_pair(decided["ia-not-met"], decided["ie-unknown"], "I.E")  # I.A changes too
    assert not is_mcdc_pair(decided["ia-not-met"], decided["ia-and-ie-not-met"], "I.E")  # same determination


def test_single_field_mutations_follow_the_schema(example_case):
    schema = knowledge_base().schema
    changes = lambda path, named=False: [c for c, _ in field_mutations(example_case, schema, path, named)]  # noqa: E731
    assert changes(("pain", "radiculopathy")) == ["pain.radiculopathy: false -> true", "pain.radiculopathy: removed"]
    assert changes(("request", "side")) == ['request.side: "left" -> "right"', 'request.side: "left" -> "bilateral"',
                                            "request.side: removed"]
    assert changes(("request", "date")) == []  # required, and a date has no enum
    assert changes(("pain", "score")) == ["pain.score: removed"]
    assert changes(("pain", "score"), named=True) == ["pain.score: 8 -> 4", "pain.score: 8 -> 0",
                                                      "pain.score: 8 -> 10", "pain.score: removed"]
    assert changes(("member", "connective_tissue_disorder"), named=True) == [
        "member.connective_tissue_disorder: documented as true", "member.connective_tissue_disorder: documented as false"]
    assert 'other_causes: "tumor" added' in changes(("other_causes",))
    mutated = dict(field_mutations(example_case, schema, ("conservative_therapy", "modalities", 0), False))
    assert mutated["conservative_therapy.modalities[0]: removed"]["conservative_therapy"]["modalities"] == ["physical_therapy"]
    assert example_case["conservative_therapy"]["modalities"] == ["medication", "physical_therapy"]  # the source untouched


def test_a_file_that_cannot_be_decided_is_listed_and_left_out(folder):
    (folder / "broken.json").write_text('{"description": "x", "case": {"case_id": "x"}, "expect": {}}')
    report = coverage(folder)
    assert report["cases"] == 4
    assert [Path(s["file"]).name for s in report["skipped"]] == ["broken.json"]
    assert "request" in report["skipped"][0]["error"]


def test_json_output(folder):
    result = run(folder, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == json.loads(json.dumps(coverage(folder)))
    assert criterion(report, "I.E")["mcdc_pair"]["statuses"] == ["met", "not_met"]


def test_markdown_output_is_the_default(folder):
    result = run(folder)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("# Test coverage of")
    assert "| criterion | met | not met | unknown | MC/DC pair |" in out
    assert "| I.E | 2 | 1 | 1 | yes |" in out
    assert "| I.B | 4 | 0 | 0 | **missing** |" in out
    assert "- **I.B**: missing" in out
    assert "all-met.json` (met, medically_necessary) / `" in out and "ie-not-met.json` (not_met, not_medically_necessary)" in out
    no_pair = next(line for line in out.splitlines() if line.startswith("- No MC/DC pair:"))
    ids = no_pair.removeprefix("- No MC/DC pair: ").split(", ")
    assert "I.B" in ids and "I.E" not in ids and "I.A" not in ids


def test_fail_on_missing_sets_the_exit_status(folder):
    assert run(folder).exit_code == 0
    assert run(folder, "--format", "json").exit_code == 0
    result = run(folder, "--fail-on-missing")
    assert result.exit_code == 1
    assert "No MC/DC pair:" in result.output  # the report is still printed


def test_write_missing_constructs_a_real_mcdc_pair(tmp_path, example_case):
    folder = write_folder(tmp_path / "cases", example_case, ["all-met"])
    out = tmp_path / "generated"
    result = run(folder, "--write-missing", out, "--format", "json", "--max-tries", "0")
    assert result.exit_code == 0, result.output
    generated = json.loads(result.output)["generated"]
    written = {w["criterion"]: w for w in generated["written"]}
    assert "I.E" in written and Path(written["I.E"]["file"]) == out / "mcdc-I.E.json"
    spec = json.loads((out / "mcdc-I.E.json").read_text())
    assert {"description", "case", "expect"} <= spec.keys()
    assert "MC/DC pair of I.E" in spec["description"]
    # decided again, the new file and its source differ in I.E alone and decide differently
    source = decide_document(json.loads((folder / "all-met.json").read_text()), folder / "all-met.json")
    partner = decide_document(spec, out / "mcdc-I.E.json")
    assert is_mcdc_pair(source, partner, "I.E")
    assert spec["expect"]["determination"] == partner.determination != "medically_necessary"
    assert spec["expect"]["statuses"] == partner.statuses
    # every criterion without a pair is either written or reported as not constructed
    missing = json.loads(result.output)["missing"]["mcdc_pair"]
    assert set(written) | {f["criterion"] for f in generated["not_constructed"]} == set(missing)
    assert all(f["exhausted"] for f in generated["not_constructed"])
    # and with the new file in the folder, the pair is found
    (folder / "mcdc-I.E.json").write_text((out / "mcdc-I.E.json").read_text())
    assert criterion(coverage(folder), "I.E")["mcdc_pair"] is not None


def test_write_missing_reports_in_markdown(tmp_path, example_case):
    folder = write_folder(tmp_path / "cases", example_case, ["all-met"])
    result = run(folder, "--write-missing", tmp_path / "generated", "--max-tries", "0")
    assert result.exit_code == 0, result.output
    assert "## Generated into" in result.output
    assert "- **I.E**: wrote `" in result.output
    assert "could not construct (tried every one of" in result.output


@functools.lru_cache(maxsize=1)
def project_report() -> dict:
    return coverage(CASES)


@pytest.mark.parametrize("cid", ordered_criteria("MC.CP.MP.166"))
def test_project_cases_have_an_mcdc_pair_for_every_criterion(cid):
    entry = criterion(project_report(), cid)
    if entry["outright_exclusion"]:  # never met where evaluated: no pair can exist
        assert entry["met"] == 0 and entry["mcdc_pair"] is None
        return
    assert entry["mcdc_pair"] is not None, f"tests/cases has no MC/DC pair for {cid}"


def test_a_parent_criterion_pairs_through_its_parts():
    """I.G changes only with one of its parts, and V.C.1 only with V.C: relatives may move together."""
    assert criterion(project_report(), "I.G")["mcdc_pair"] is not None
    assert criterion(project_report(), "V.C.1")["mcdc_pair"] is not None


def test_examples_folder_of_bare_cases_is_decided():
    examples = Path(__file__).parent.parent / "examples"
    result = run(examples, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["cases"] >= 2 and report["cases"] + len(report["skipped"]) == len(list(examples.glob("*.json")))
    assert all("decided under policy" in s["error"] for s in report["skipped"])  # an example of another policy


def test_cases_of_another_policy_are_listed_not_counted(tmp_path, example_case):
    folder = write_folder(tmp_path / "cases", example_case, ["all-met"])
    (folder / "other.json").write_text(json.dumps({**example_case, "case_id": "other", "policy": "L39383"}))
    report = coverage(folder)
    assert report["cases"] == 1
    assert report["skipped"] == [{"file": str(folder / "other.json"),
                                  "error": "decided under policy L39383, not MC.CP.MP.166 (--policy L39383 counts it)"}]
    assert all(c["id"][0] in "IV" for c in report["criteria"])  # none of L39383's criteria (1, 1.1, ...)
    assert coverage(folder, "L39383")["cases"] == 1


def test_bare_and_suite_case_files_mix_and_suite_readings_apply(tmp_path, example_case):
    folder = tmp_path / "cases"
    folder.mkdir()
    bilateral_case = variant(example_case, bilateral)
    (folder / "bare.json").write_text(json.dumps(bilateral_case))
    suite = {"description": "one injection", "case": bilateral_case,
             "readings": {"bilateral_injection": "one_injection"}, "expect": {}}
    (folder / "suite.json").write_text(json.dumps(suite))
    report = coverage(folder)
    assert report["cases"] == 2 and report["skipped"] == []
    assert {k: criterion(report, "I.A")[k] for k in ("met", "not_met")} == {"met": 1, "not_met": 1}


@pytest.mark.parametrize("files", [{}, {"bad.json": '{"case_id": "x"}', "notes.json": "[]"}])
def test_a_folder_with_nothing_decidable_is_an_error(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run(tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"kbquery coverage: no case file under {tmp_path} could be decided" in result.stderr
    assert ("it holds no *.json file" if not files else "2 *.json files, none a valid case") in result.stderr
    for name in files:
        assert f"{tmp_path / name}: CaseError:" in result.stderr
