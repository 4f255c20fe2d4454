"""kbquery batch: one output line per input line, in order; errors as records; resumable; Dask."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import case_files, interruptible, load_case_file
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


def decided(case_id):
    return json.dumps(dict(CASES[0], case_id=case_id)).encode()


def test_lines_end_at_newline_alone_whatever_the_bytes(tmp_path):
    """A raw CR is JSON whitespace: it splits no line. A CRLF ending is a line ending."""
    lines = [decided("a").replace(b", ", b",\r", 3), decided("b") + b"\r", b'{"case_id": "c",\r\r"request": 1}',
             decided("d").replace(b", ", b",\x0b\x0c\x1c\x1d\x1e\x85\xe2\x80\xa8", 1), decided("e")]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines))  # and no newline after the last line
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    records = read(out)
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert [r.get("case_id") for r in records] == ["a", "b", "c", None, "e"]
    assert [outcome(r) for r in records] == [EXPECTED] * 2 + ["invalid_case"] * 2 + [EXPECTED]
    assert "not UTF-8 text" in records[3]["error"]["errors"][0]["message"]  # \x85 alone is not UTF-8


def outcome(record):
    return batch.outcome(record)


EXPECTED = decide(CASES[0]).determination


def test_a_line_that_is_not_a_valid_case_is_an_error_record_for_that_line_alone(tmp_path):
    """Invalid UTF-8, a lone surrogate, duplicate keys, NaN, an oversized line: each its own error record,
    in a window of valid cases that are all decided; and --resume past them works."""
    hostile = [b'{"case_id": "u", "x": "\xff"}', decided("s").replace(b'"NRS"', b'"NRS\\ud800"'),
               decided("k").replace(b'"case_id": "k"', b'"case_id": "k", "case_id": "k2"'),
               decided("n").replace(b'"score": 8', b'"score": NaN'), b'"' + b"x" * 5_000_001 + b'"']
    lines = [decided(f"ok{i}") for i in range(20)]
    for i, line in enumerate(hostile):
        lines.insert(2 + 3 * i, line)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    summary = batch.run(source, out, workers=2, progress=False)
    records = read(out)
    assert [r["line"] for r in records] == list(range(1, len(lines) + 1))
    errors = {r["line"]: r for r in records if "error" in r}
    assert sorted(errors) == [3 + 3 * i for i in range(len(hostile))]
    assert summary.counts == {EXPECTED: 20, "invalid_case": len(hostile)}
    messages = [errors[n]["error"]["errors"][0] for n in sorted(errors)]
    assert messages[0] == {"path": "", "message": "not UTF-8 text: byte 0xff at offset 23"}
    assert messages[1]["path"] == "pain.scale" and "lone surrogate" in messages[1]["message"]
    assert messages[2] == {"path": "case_id", "message": "key 'case_id' is given more than once"}
    assert messages[3] == {"path": "pain.score", "message": "not a finite number (NaN, Infinity, or too large to read)"}
    assert "larger than the limit" in messages[4]["message"]
    # the case_id is there when it could be read, and only then
    assert [errors[n].get("case_id") for n in sorted(errors)] == [None, "s", None, "n", None]
    data = out.read_bytes()
    out.write_bytes(data[: data.index(b'"line": 9,') - 1])  # interrupted after the surrogate's line
    batch.run(source, out, workers=1, resume=True, progress=False)
    assert out.read_bytes() == data


def test_an_invalid_case_record_names_its_case_id():
    (record,) = map(json.loads, batch.decide_window([(1, "line 1", json.dumps({"case_id": "mine", "request": {}}))],
                                                    None, False))
    assert record["case_id"] == "mine" and record["error"]["kind"] == "invalid_case"


def test_a_huge_line_gives_a_small_error_record(tmp_path):
    """A 3.6 MB line of 300,000 bad list items, or of 100,000 unknown keys: a record of a few hundred bytes."""
    items = json.dumps(dict(CASES[0], case_id="big", other_causes=["bad-cause"] * 300_000))
    keys = json.dumps(dict(CASES[0], case_id="keys", pain={f"unknown{i:06d}": 1 for i in range(100_000)}))
    assert len(items) > 3_600_000
    source = tmp_path / "in.jsonl"
    source.write_text(items + "\n" + keys + "\n")
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    big, many = out.read_text().splitlines()
    assert len(big) < 300 and json.loads(big)["error"]["errors"] == [
        {"path": "other_causes", "message": "300000 items; the limit is 9"}]
    record = json.loads(many)
    assert len(many) < 10_000 and len(record["error"]["errors"]) == 20
    assert record["error"]["more_errors"] == 100_000 - 20 and record["case_id"] == "keys"


def test_exit_status_says_whether_every_line_was_decided(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_bytes(decided("a") + b"\n" + decided("b") + b"\n")
    result = CliRunner().invoke(main, ["batch", str(good), "-o", str(tmp_path / "1.jsonl"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"{}\n[]\n")
    result = CliRunner().invoke(main, ["batch", str(bad), "-o", str(tmp_path / "2.jsonl"), "--workers", "1"])
    assert result.exit_code == 3 and "2 cases (0 from an earlier run): 2 invalid case" in result.output


@pytest.mark.parametrize("change", ["input", "reading", "explain", "no manifest"])
def test_resume_refuses_another_run(source, tmp_path, change):
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    kept = out.read_bytes()
    args = ["batch", str(source), "-o", str(out), "--workers", "1", "--resume"]
    if change == "input":
        other = tmp_path / "other.jsonl"
        other.write_bytes(source.read_bytes().replace(b'"case_id": "', b'"case_id": "x', 1))
        args[1] = str(other)
    elif change == "reading":
        args += ["--reading", "bilateral_injection=one_injection"]
    elif change == "explain":
        args += ["--explain"]
    else:
        batch.manifest_path(out).unlink()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    expected = {"input": "(input_sha256 was '", "explain": "(explain was False, is now True)",
                "reading": "(policies.MC.CP.MP.166.readings.bilateral_injection was 'two_injections', is now 'one_injection')",
                "no manifest": "is missing"}
    assert f"cannot resume {out}" in result.output and expected[change] in result.output
    assert out.read_bytes() == kept


def test_resume_of_the_same_run_with_the_default_reading_named(source, tmp_path):
    """A reading named at its default is the same run: the manifest holds every reading as applied."""
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    summary = batch.run(source, out, workers=1, progress=False, resume=True,
                        readings={"bilateral_injection": "two_injections"})
    assert summary.resumed_from == summary.total


@pytest.mark.parametrize("address", ["not an address", "foo://host:1", "tcp://127.0.0.1:{closed}"])
def test_a_bad_dask_address_is_one_line_and_exit_2(source, tmp_path, address):
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    # a process of its own: a Client that failed leaves distributed's event loop unusable in this one
    result = subprocess.run([KBQUERY, "batch", str(source), "-o", str(tmp_path / "o.jsonl"),
                             "--dask", address.format(closed=closed)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "cannot use the Dask scheduler" in result.stderr, result.stderr
    assert not (tmp_path / "o.jsonl").exists()


KBQUERY = str(Path(sys.executable).parent / "kbquery")


def start_batch(tmp_path, n=3000):
    """A `kbquery batch` process on n cases, once it has written its first records."""
    source = tmp_path / "many.jsonl"
    source.write_bytes(b"".join(decided(f"c{i}") + b"\n" for i in range(n)))
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([KBQUERY, "batch", str(source), "-o", str(out),
                                "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=interruptible)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    return process, source, out


def descendants(pid: int) -> set[int]:
    """The processes under pid, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_exit_when_the_batch_is_killed(tmp_path):
    process, _, _ = start_batch(tmp_path)
    workers = descendants(process.pid)
    assert len(workers) >= 2
    process.kill()  # SIGKILL: the batch has no chance to stop them
    process.wait()
    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if running(pid)]


def test_sigint_stops_with_whole_records_and_a_hint_to_resume(tmp_path):
    process, source, out = start_batch(tmp_path, 800)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    data = out.read_bytes()
    n = data.count(b"\n")
    assert data.endswith(b"\n") and 0 < n < 800
    assert [json.loads(line)["line"] for line in data.splitlines()] == list(range(1, n + 1))
    message = stderr.decode()
    assert f"interrupted: {n} records written whole to {out}" in message and "--resume" in message
    assert "Aborted" not in message and "Traceback" not in message
    # resumed as the hint says (by the command, which reads the knowledge base as it is now, as the run did)
    resumed = subprocess.run([KBQUERY, "batch", str(source), "-o", str(out), "--resume"], capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0 and f"800 cases ({n} from an earlier run)" in resumed.stdout, resumed.stderr
    assert [json.loads(line)["line"] for line in out.read_bytes().splitlines()] == list(range(1, 801))


def test_the_help_states_the_exit_statuses():
    text = " ".join(CliRunner().invoke(main, ["batch", "--help"]).output.split())
    assert "0 when every line was decided, 3 when the run completed but some lines were not valid cases" in text
    assert "130 when interrupted" in text and "Lines end at a line feed alone" in text


def test_resume_after_a_line_torn_inside_a_character(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(decided(f"é{i}ü€") + b"\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    batch.run(source, out, workers=1, progress=False)
    data = out.read_bytes()
    cut = data.index("€".encode(), data.index(b"\n") + 1) + 1  # the second record, inside the euro sign
    out.write_bytes(data[:cut])
    summary = batch.run(source, out, workers=1, resume=True, progress=False)
    assert out.read_bytes() == data and summary.resumed_from == 1


LCD_CASE = next(load_case_file(p)["case"] for p in case_files() if load_case_file(p)["case"].get("policy") not in (None, "MC.CP.MP.166"))
LCD = LCD_CASE["policy"]


def test_policy_decides_every_case_under_it(tmp_path):
    bare = {k: v for k, v in CASES[0].items() if k != "policy"}
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(bare) + "\n" + json.dumps(LCD_CASE) + "\n")
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.jsonl"), "--workers", "1",
                                       "--policy", LCD])
    assert result.exit_code == 0, result.output
    assert [r["policy"]["id"] for r in read(tmp_path / "out.jsonl")] == [LCD, LCD]
    assert json.loads((tmp_path / "out.jsonl.manifest.json").read_text())["policy"] == LCD


def test_a_reading_goes_to_the_policies_whose_register_has_it(tmp_path):
    from kbquery import decide_many, knowledge_base

    own = {rid for rid, r in knowledge_base(LCD).readings.items() if len(r.options) > 1} - set(knowledge_base().readings)
    rid = sorted(own)[0]
    choice = next(c for c in knowledge_base(LCD).readings[rid].options if c != knowledge_base(LCD).readings[rid].default)
    mc, lcd = decide_many([CASES[0], LCD_CASE], readings={rid: choice})
    assert rid not in {r["id"] for r in mc.interpretation} and mc == decide(CASES[0])
    assert lcd.readings == {rid: choice}
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CASES[0]) + "\n" + json.dumps(LCD_CASE) + "\n")
    ok = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "a.jsonl"), "--workers", "1", "--reading", f"{rid}={choice}"])
    assert ok.exit_code == 0, ok.output
    unknown = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "b.jsonl"), "--reading", "no_such_reading=x"])
    assert unknown.exit_code == 2 and "unknown reading 'no_such_reading'" in unknown.output
    assert not (tmp_path / "b.jsonl").exists()
