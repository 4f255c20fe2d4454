"""One case-file format across commands: a bare case, or a suite case file holding one under
"case" beside its "expect" (tests/cases). Every face reads both through kbquery.case.case_document."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CASES, ROOT, case_files, load_case_file
from kbquery import CaseError, decide, decide_many
from kbquery.case import case_document
from kbquery.cli import main

ONE_INJECTION = CASES / "I" / "I.A" / "I.A-bilateral-one-injection-reading-met.json"


def suite(case: dict, readings: dict | None = None) -> dict:
    return {"description": "x", "case": case, **({"readings": readings} if readings else {}), "expect": {}}


def test_case_document_tells_the_forms_apart(example_case):
    assert case_document(example_case) == (example_case, None, "")
    assert case_document(suite(example_case, {"a": "b"})) == (example_case, {"a": "b"}, "case")
    assert case_document(suite(example_case)) == (example_case, {}, "case")
    assert case_document({"case": example_case}) == ({"case": example_case}, None, "")  # no "expect": not a suite file
    with pytest.raises(CaseError, match="note: unknown key 'note' in a suite case file"):
        case_document({**suite(example_case), "note": "x"})
    with pytest.raises(CaseError, match="readings: an object of reading ids and choices"):
        case_document(suite(example_case, {"bilateral_injection": 1}))


def test_decide_many_mixes_bare_and_suite_files_each_under_its_readings(example_case):
    bilateral = copy.deepcopy(example_case)
    bilateral["request"]["side"] = "bilateral"
    documents = [bilateral, suite(bilateral, {"bilateral_injection": "one_injection"}), suite(bilateral),
                 load_case_file(ONE_INJECTION)]
    results = decide_many(documents)
    assert [r.determination for r in results] == ["not_medically_necessary", "medically_necessary",
                                                   "not_medically_necessary", "medically_necessary"]
    assert [r.readings for r in results] == [{}, {"bilateral_injection": "one_injection"}, {},
                                             {"bilateral_injection": "one_injection"}]
    # the caller's readings replace the file's, clause by clause
    switched = decide_many(documents, readings={"bilateral_injection": "two_injections"})
    assert {r.determination for r in switched} == {"not_medically_necessary"}
    # and each is what deciding it alone gives
    assert results == [decide(d) for d in documents]


def test_errors_of_a_suite_file_name_their_path_in_the_file(example_case):
    broken = copy.deepcopy(example_case)
    broken["pain"]["score"] = 11
    (bare, wrapped, bad_reading) = decide_many([broken, suite(broken), suite(example_case, {"nope": "x"})])
    assert bare.errors[0][0] == "pain.score" and wrapped.errors[0][0] == "case.pain.score"
    assert bad_reading.errors[0][0] == "readings" and "unknown reading 'nope'" in bad_reading.errors[0][1]


def test_notebook_case_load_keeps_a_suite_files_readings():
    from kbquery.notebook import Case, decide_many as table

    case = Case.load(ONE_INJECTION)
    assert "expect" not in case.data and case.readings == {"bilateral_injection": "one_injection"}
    assert case.decide().determination == "medically_necessary"
    assert case.with_(pain__score=7).decide().determination == "medically_necessary"
    assert case.decide({"bilateral_injection": "two_injections"}).unmet == ["I.A"]
    bare = Case(case.data)
    assert [d.determination for _, d in table({"suite": case, "bare": bare})] == [
        "medically_necessary", "not_medically_necessary"]


@pytest.mark.parametrize("folder", [CASES, ROOT / "examples"], ids=["tests/cases", "examples"])
def test_batch_decides_every_shipped_case_file(tmp_path, folder):
    folder = Path(shutil.copytree(folder, tmp_path / "cases"))  # a fixed set of files, whatever changes meanwhile
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    files = sorted(folder.rglob("*.json"))
    assert len(records) == len(files) and not [r for r in records if "error" in r]
    for record in records:
        document = load_case_file(folder / record["source"])
        if "expect" in document:  # a suite case file: decided as it expects
            assert record["determination"] == document["expect"]["determination"], record["source"]


def test_every_shipped_case_file_is_one_of_the_two_forms():
    for path in [*case_files(), *sorted((ROOT / "examples").glob("*.json"))]:
        case, readings, within = case_document(load_case_file(path))
        assert within == ("case" if path.is_relative_to(CASES) else ""), path
        assert "case_id" in case
