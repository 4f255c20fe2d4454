"""kbquery batch: one output line per input line, in order; errors as records; resumable; Dask."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import case_files, load_case_file
from kbquery import batch, decide
from kbquery.cli import main

CASES = [load_case_file(p)["case"] for p in case_files() if not load_case_file(p).get("readings")][:60]
BAD = ['{"case_id": broken', "", json.dumps({"case_id": "x", "request": {"date": "2026-01-01", "code": "27096", "sidee": 1}}),
       "[1, 2, 3]", json.dumps({"case_id": "y", "request": {"date": "2026-01-01", "code": "27096"},
                                "prior_procedures": [{"date": "2025-01-01"}] * 10_000})]


@pytest.fixture
def source(tmp_path):
    lines = [json.dumps(c) for c in CASES]
    for i, bad in enumerate(BAD):
        lines.insert(3 + 7 * i, bad)
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_line_per_input_line_in_order(source, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = batch.run(source, out, workers=2, progress=False)
    records = read(out)
    inputs = source.read_text().splitlines()
    assert [r["line"] for r in records] == list(range(1, len(inputs) + 1))
    assert summary.total == len(inputs) and summary.counts["invalid_case"] == len(BAD)
    for record, text in zip(records, inputs):
        if "error" not in record:  # the window decided together, each exactly as alone
            assert record == {"line": record["line"], "source": record["source"], **decide(json.loads(text)).to_dict()}


def test_invalid_lines_become_error_records_naming_the_problem(source, tmp_path):
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    errors = {r["line"]: r["error"] for r in read(out) if "error" in r}
    messages = [" ".join(e["message"] for e in err["errors"]) for _, err in sorted(errors.items())]
    assert "malformed JSON" in messages[0]
    assert "empty line" in messages[1]
    assert "unknown key 'sidee'" in messages[2]
    assert "a case is a JSON object" in messages[3]
    assert messages[4] == "10000 items; the limit is 200"  # refused quickly, naming the limit


def test_an_interrupted_run_resumes_without_redoing_or_losing_work(source, tmp_path):
    whole = tmp_path / "whole.jsonl"
    batch.run(source, whole, workers=2, progress=False)
    part = tmp_path / "part.jsonl"
    data = whole.read_bytes()
    part.write_bytes(data[: len(data) // 2])  # cut mid-line, as a kill would
    batch.manifest_path(part).write_bytes(batch.manifest_path(whole).read_bytes())
    summary = batch.run(source, part, workers=2, resume=True, progress=False)
    assert part.read_bytes() == data
    assert 0 < summary.resumed_from < summary.total == len(read(whole))


def test_an_existing_output_is_not_overwritten(source, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("keep\n")
    with pytest.raises(FileExistsError):
        batch.run(source, out, progress=False)
    assert out.read_text() == "keep\n"


def test_a_folder_of_case_files(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, case in enumerate(CASES[:5]):
        (folder / f"{i}.json").write_text(json.dumps(case))
    out = tmp_path / "out.jsonl"
    batch.run(folder, out, workers=1, progress=False)
    assert [r["source"] for r in read(out)] == [f"{i}.json" for i in range(5)]


def test_explain_adds_the_graph(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(CASES[0]) + "\n")
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, explain=True, progress=False)
    (record,) = read(out)
    assert record["explanation"]["graph"]["version"] == 1 and record["explanation"]["nodes"]


def test_cli_batch_prints_a_summary(source, tmp_path):
    result = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "o.jsonl"), "--workers", "1"])
    assert result.exit_code == 3, result.output  # completed, but some lines were invalid
    assert f"{len(CASES) + len(BAD)} cases (0 from an earlier run)" in result.output
    assert f"{len(BAD)} invalid case" in result.output


def test_the_same_batch_on_a_local_dask_cluster(source, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.jsonl"
    batch.run(source, local, workers=1, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = tmp_path / "dask.jsonl"
        batch.run(source, on_dask, workers=2, client=client, progress=False)
    assert on_dask.read_bytes() == local.read_bytes()
