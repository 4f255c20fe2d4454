"""Batch determinations: streaming, in input order, resumable, on local processes or a Dask cluster.

Every input line (or case file of a folder) gives exactly one output line, in input order:
the determination, or an error record with the line number and what was wrong. Input is JSON
Lines: bytes split on "\\n" alone, so that record N is line N whatever a line holds (a raw CR is
JSON whitespace), each line read as strict UTF-8 by itself. Memory stays flat: input is read a
window at a time and only a bounded number of windows is in flight.

Beside the output, OUTPUT.manifest.json says what it is made from (the input's sha256, the
readings, the policy and its kb_digest); `--resume` continues only the same run.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import CaseError, InternalError, decide_many
from .case import MAX_BYTES, case_id_of, parse
from .knowledge import knowledge_base, policies

WINDOW = 200  # cases per task, grounded together: large enough to amortise the rules, small enough to stream
RECYCLE_AFTER = 10  # tasks (2,000 cases) per worker process
MANIFEST_KEYS = ("input_sha256", "policy", "policies", "explain")  # what a resumed run must share


def read_items(source: Path) -> Iterator[tuple[int, str, bytes]]:
    """(line number, where it came from, bytes) for each line of a JSONL file or each file of a folder."""
    if source.is_dir():
        for number, path in enumerate(_case_files(source), 1):
            yield number, str(path.relative_to(source)), path.read_bytes()
    else:
        with source.open("rb") as lines:  # binary: lines end at b"\n" and nowhere else
            for number, line in enumerate(lines, 1):
                line = line.removesuffix(b"\n").removesuffix(b"\r")
                # a line past the limit is refused by its size: no need to carry all of it to a worker
                yield number, f"line {number}", line[: MAX_BYTES + 1]


def _case_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json"))


def decide_window(items: list[tuple[int, str, str | bytes]], readings: dict | None, explain: bool,
                  policy: str | None = None) -> list[str]:
    """One output line per item, in order, never raising: the cases are read, then decided together,
    each under `policy` when given, else under the policy it names."""
    records: list[dict] = []
    cases: list[tuple[dict, dict]] = []  # (record, case) for each case that could be read
    for number, origin, text in items:
        record: dict = {"line": number, "source": origin}
        try:
            if not text.strip():
                raise CaseError([("", "empty line: no case")])
            document = parse(text)
            case_id = case_id_of(document)
            if case_id:  # for an error record; a determination carries its own
                record["case_id"] = case_id
            cases.append((record, document))
        except CaseError as e:
            _refused(record, e)
        records.append(record)
    kb = knowledge_base(policy) if policy else None
    for (record, _), result in zip(cases, decide_many([case for _, case in cases], readings=readings, kb=kb)):
        try:
            if isinstance(result, Exception):
                raise result
            record.update(result.to_dict())
            if explain:
                from .explain import explain as explanation

                record["explanation"] = json.loads(explanation(result).to_json())
        except CaseError as e:
            _refused(record, e)
        except InternalError as e:
            record["error"] = {"kind": "internal", "message": str(e)}
    return [json.dumps(record, ensure_ascii=False) for record in records]


def _refused(record: dict, error: CaseError) -> None:
    """An invalid case's record: its case_id when readable, the first errors and how many more."""
    case_id = record.get("case_id") or error.case_id
    if case_id:
        record["case_id"] = case_id
    record["error"] = {"kind": "invalid_case", "errors": [{"path": p, "message": m} for p, m in error.errors]}
    if error.more:
        record["error"]["more_errors"] = error.more


def _windows(items: Iterator, size: int) -> Iterator[list]:
    window: list = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def outcome(record: dict) -> str:
    return record["error"]["kind"] if "error" in record else record["determination"]


@dataclass
class Summary:
    total: int = 0
    resumed_from: int = 0
    counts: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"total": self.total, "resumed_from": self.resumed_from, "outcomes": dict(sorted(self.counts.items()))}


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name + ".manifest.json")


def _survey(source: Path) -> tuple[int, str | None]:
    """(number of items, sha256 of the input) in one pass; a stream (a pipe) has no digest ahead of time."""
    h = hashlib.sha256()
    if source.is_dir():
        files = _case_files(source)
        for path in files:
            h.update(str(path.relative_to(source)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return len(files), h.hexdigest()
    if not source.is_file():
        return 0, None
    lines, last = 0, b"\n"
    with source.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n"), h.hexdigest()  # a last line without "\n" is a line


def _manifest(source: Path, digest: str | None, readings: dict | None, explain: bool, policy: str | None) -> dict:
    """What the output is made from: the input, and for every policy a case may name, its rules' digest
    and the reading of each clause as applied (so a reading named at its default is the same run)."""
    applied = {}
    for pid in policies():
        kb = knowledge_base(pid)
        applied[pid] = {"kb_digest": kb.digest,
                        "readings": {rid: (readings or {}).get(rid, r.default) for rid, r in kb.readings.items()}}
    return {"input": str(source), "input_sha256": digest, "policy": policy or "each case's own", "policies": applied,
            "explain": explain}


def _difference(then, now, path: str = "") -> str | None:
    """The first field in which two manifests differ, said as `path was X, is now Y`."""
    if isinstance(then, dict) and isinstance(now, dict):
        for key in sorted(then.keys() | now.keys()):
            found = _difference(then.get(key), now.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    return None if then == now else f"{path} was {then!r}, is now {now!r}"


def _check_resumable(output: Path, now: dict) -> None:
    """Refuse to continue an output made from another input, readings, policy or knowledge base."""
    path = manifest_path(output)
    if now["input_sha256"] is None:
        raise ValueError(f"cannot resume from {now['input']}: only a file or folder can be checked to be the same input")
    try:
        then = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"cannot resume {output}: {path} is missing, so nothing says what it was made from; "
                         f"remove {output} to start again") from None
    difference = _difference({key: then.get(key) for key in MANIFEST_KEYS}, {key: now[key] for key in MANIFEST_KEYS})
    if difference:
        raise ValueError(f"cannot resume {output}: another run made it ({difference}); "
                         f"remove {output} and {path.name} to start again, or write to another file")


def _resume(output: Path, summary: Summary) -> int:
    """Lines already written whole (a torn last line is cut off); they are counted, not redone."""
    done = 0
    with output.open("r+b") as f:  # bytes: a kill can tear a line inside a UTF-8 character
        keep = 0
        for line in iter(f.readline, b""):
            if not line.endswith(b"\n"):
                break
            record = json.loads(line)
            if record.get("line") != done + 1:
                raise ValueError(f"{output} line {done + 1} holds input line {record.get('line')}: not a batch output")
            done += 1
            keep = f.tell()
            summary.counts[outcome(record)] += 1
        f.truncate(keep)
    return done


def written(output: Path) -> int:
    """How many records an output holds whole (none yet when it does not exist)."""
    if not output.exists():
        return 0
    with output.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


class _Interruption:
    """SIGINT asks the run to stop once the window being written is whole; a second one stops it at once."""

    def __init__(self):
        self.asked = False
        self.previous = None

    def __enter__(self):
        # Only the main thread can handle signals; a run started with SIGINT ignored (`&` in a script) keeps it so.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self.previous = signal.signal(signal.SIGINT, self._ask)
        return self

    def _ask(self, signum, frame):
        self.asked = True
        signal.signal(signal.SIGINT, self.previous)

    def check(self):
        if self.asked:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _worker_start() -> None:
    """In each worker: Ctrl-C reaches the whole process group, but the parent decides what stops;
    and the worker exits when its parent is gone, even after a kill -9 that left it no time to say so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    multiprocessing.parent_process().join()  # the parent's sentinel: readable once the parent has exited
    os._exit(1)


def run(source: Path, output: Path, *, workers: int = 2, readings: dict | None = None, explain: bool = False,
        resume: bool = False, client=None, progress: bool | None = None, policy: str | None = None) -> Summary:
    """Decide every item of `source` into `output`, each case under `policy` when given, else under the
    policy it names. `client`: a dask.distributed Client, else local processes.

    Raises FileExistsError for an output that exists without `resume`, ValueError for one that
    another run made, and KeyboardInterrupt on SIGINT once the records decided so far are written whole."""
    summary = Summary()
    if output.exists() and not resume:
        raise FileExistsError(f"{output} exists: pass --resume to continue it, or remove it")
    total, digest = _survey(source)
    manifest = _manifest(source, digest, readings, explain, policy)
    if output.exists():
        _check_resumable(output, manifest)
        summary.resumed_from = done = _resume(output, summary)
    else:
        done = 0
        manifest_path(output).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    items = (item for item in read_items(source) if item[0] > done)
    show = sys.stderr.isatty() if progress is None else progress
    from tqdm import tqdm

    # Workers are replaced now and then, so that nothing a long run accumulates in a process
    # (clingo's symbol table never shrinks) can grow without bound.
    executor = None if client is not None else ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=RECYCLE_AFTER,
        initializer=_worker_start)
    submit = client.submit if client is not None else executor.submit
    in_flight: deque = deque()
    try:
        with _Interruption() as interruption, output.open("a", encoding="utf-8") as out, \
                tqdm(total=total or None, initial=done, unit="case", disable=not show, smoothing=0.1) as bar:
            def drain_one():
                lines = in_flight.popleft().result()
                out.write("\n".join(lines) + "\n")
                out.flush()
                for line in lines:
                    summary.counts[outcome(json.loads(line))] += 1
                bar.update(len(lines))
                interruption.check()  # here, between windows, every record written is whole

            for window in _windows(items, WINDOW):
                interruption.check()
                in_flight.append(submit(decide_window, window, readings, explain, policy))
                if len(in_flight) >= 2 * max(workers, 1):
                    drain_one()
            while in_flight:
                drain_one()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    summary.total = sum(summary.counts.values())
    return summary
