"""Batch determinations: streaming, in input order, resumable, on local processes or a Dask cluster.

Every input line (or case file of a folder) gives exactly one output line, in input order:
the determination, or an error record with the line number and what was wrong. Memory stays
flat: input is read a window at a time and only a bounded number of windows is in flight.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import CaseError, InternalError, decide_many
from .case import parse

WINDOW = 200  # cases per task, grounded together: large enough to amortise the rules, small enough to stream
RECYCLE_AFTER = 10  # tasks (2,000 cases) per worker process


def read_items(source: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, where it came from, text) for each line of a JSONL file or each file of a folder."""
    if source.is_dir():
        for number, path in enumerate(sorted(source.rglob("*.json")), 1):
            yield number, str(path.relative_to(source)), path.read_text(encoding="utf-8", errors="replace")
    else:
        with source.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                yield number, f"line {number}", line


def decide_window(items: list[tuple[int, str, str]], readings: dict | None, explain: bool) -> list[str]:
    """One output line per item, in order, never raising: the cases are read, then decided together."""
    records: list[dict] = []
    cases: list[tuple[dict, dict]] = []  # (record, case) for each case that could be read
    for number, origin, text in items:
        record: dict = {"line": number, "source": origin}
        try:
            if not text.strip():
                raise CaseError([("", "empty line: no case")])
            cases.append((record, parse(text)))
        except CaseError as e:
            record["error"] = _invalid(e)
        records.append(record)
    for (record, _), result in zip(cases, decide_many([case for _, case in cases], readings=readings)):
        try:
            if isinstance(result, Exception):
                raise result
            record.update(result.to_dict())
            if explain:
                from .explain import explain as explanation

                record["explanation"] = json.loads(explanation(result).to_json())
        except CaseError as e:
            record["error"] = _invalid(e)
        except InternalError as e:
            record["error"] = {"kind": "internal", "message": str(e)}
    return [json.dumps(record, ensure_ascii=False) for record in records]


def _invalid(error: CaseError) -> dict:
    return {"kind": "invalid_case", "errors": [{"path": p, "message": m} for p, m in error.errors]}


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


def _resume(output: Path, summary: Summary) -> int:
    """Lines already written whole (a torn last line is cut off); they are counted, not redone."""
    done = 0
    with output.open("r+", encoding="utf-8") as f:
        keep = 0
        for line in iter(f.readline, ""):
            if not line.endswith("\n"):
                break
            record = json.loads(line)
            if record.get("line") != done + 1:
                raise ValueError(f"{output} line {done + 1} holds input line {record.get('line')}: not a batch output")
            done += 1
            keep = f.tell()
            summary.counts[outcome(record)] += 1
        f.truncate(keep)
    return done


def run(source: Path, output: Path, *, workers: int = 2, readings: dict | None = None, explain: bool = False,
        resume: bool = False, client=None, progress: bool | None = None) -> Summary:
    """Decide every item of `source` into `output`. `client`: a dask.distributed Client, else local processes."""
    summary = Summary()
    if output.exists() and not resume:
        raise FileExistsError(f"{output} exists: pass --resume to continue it, or remove it")
    done = _resume(output, summary) if output.exists() else 0
    summary.resumed_from = done
    total = sum(1 for _ in read_items(source)) if source.is_file() or source.is_dir() else None
    items = (item for item in read_items(source) if item[0] > done)
    show = sys.stderr.isatty() if progress is None else progress
    from tqdm import tqdm

    # Workers are replaced now and then, so that nothing a long run accumulates in a process
    # (clingo's symbol table never shrinks) can grow without bound.
    executor = None if client is not None else ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=RECYCLE_AFTER)
    submit = client.submit if client is not None else executor.submit
    in_flight: deque = deque()
    try:
        with output.open("a", encoding="utf-8") as out, tqdm(total=total, initial=done, unit="case",
                                                             disable=not show, smoothing=0.1) as bar:
            def drain_one():
                lines = in_flight.popleft().result()
                out.write("\n".join(lines) + "\n")
                out.flush()
                for line in lines:
                    summary.counts[outcome(json.loads(line))] += 1
                bar.update(len(lines))

            for window in _windows(items, WINDOW):
                in_flight.append(submit(decide_window, window, readings, explain))
                if len(in_flight) >= 2 * max(workers, 1):
                    drain_one()
            while in_flight:
                drain_one()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    summary.total = sum(summary.counts.values())
    return summary
