"""Warm determinations one at a time, timed in this process, a case at a time as asked on stdin.

    python bench/lone.py REPEAT    # each stdin line a case; each stdout line {"ms": ..., "cpu_ms": ...}

For each case, `kbquery.decide` back to back REPEAT times: the medians of the wall and of this
thread's CPU time, or {"refused": "..."} for a case this revision refuses (a field it does not know
yet). Only `kbquery.decide` is used, so that any revision of the package is timed the same way:
bench/run.py runs one process under an earlier revision and one under this checkout, and asks them
in turn, case by case, so that both meet the same noise of a shared machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from kbquery import decide


def timed(case: dict, repeat: int) -> dict:
    try:
        decide(case)
    except Exception as e:  # refused by this revision: another schema or policy
        return {"refused": str(e)[:200]}
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        decide(case)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return {"ms": statistics.median(wall) * 1000, "cpu_ms": statistics.median(cpu) * 1000}


def main(repeat: int) -> None:
    for line in sys.stdin:
        print(json.dumps(timed(json.loads(line), repeat)), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
