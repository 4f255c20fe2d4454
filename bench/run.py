"""The benchmark: measured figures, side by side as ratios, all from one run on this machine.

    python bench/run.py            # writes bench/results.md and prints it
    python bench/run.py --quick    # fewer repetitions and smaller batches

Medians over warm repetitions; the ratios are what carry from one machine to another.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbquery import decide
from kbquery.explain import explain
from kbquery.explain.text import render_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import reference  # noqa: E402  (bench/ is a folder of scripts, not a package)

KBQUERY = str(Path(sys.executable).with_name("kbquery"))


def suite_cases() -> list[dict]:
    found = [json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "cases").rglob("*.json"))]
    found = [s["case"] for s in found if not s.get("readings")]
    return found + [json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "golden").glob("*.case.json"))]


def median_ms(fn, items, repeat: int) -> float:
    """Median over items of the per-item median of `repeat` warm runs, in milliseconds."""
    per_item = []
    for item in items:
        fn(item)
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn(item)
            runs.append(time.perf_counter() - start)
        per_item.append(statistics.median(runs))
    return statistics.median(per_item) * 1000


def wall(cmd: list[str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def generated(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [reference.random_case(rng) for _ in range(n)]


def batch_run(cases_file: Path, workers: int) -> tuple[float, int]:
    """Seconds for `kbquery batch` on the file, and the peak RSS (KiB) of its largest process."""
    out = cases_file.with_suffix(f".out{workers}.jsonl")
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([KBQUERY, "batch", str(cases_file), "-o", str(out), "--workers", str(workers)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - start
    out.unlink()
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def rows_speed(repeat: int, batch_size: int, memory_sizes: list[int], differential: int) -> list[tuple]:
    items = suite_cases()
    determination = median_ms(decide, items, repeat)
    with_graph = median_ms(lambda c: render_text(explain(decide(c)).graph), items, repeat)
    with_why_not = median_ms(lambda c: explain(decide(c)).text(), items, repeat)
    cases = generated(max(batch_size, 2000))
    ref_start = time.perf_counter()
    for case in cases:
        reference.reference_decision(case)
    reference_ms = (time.perf_counter() - ref_start) / len(cases) * 1000
    rows = [
        ("determination in process, one case at a time, warm (median)", f"{determination:.2f} ms",
         f"{1000 / determination:.0f} cases/s", "1.0"),
        ("... with the justification graph and text tree", f"{with_graph:.2f} ms", f"{1000 / with_graph:.0f} cases/s",
         f"{with_graph / determination:.1f}"),
        ("... with graph, tree and why-not counterfactuals", f"{with_why_not:.2f} ms",
         f"{1000 / with_why_not:.0f} cases/s", f"{with_why_not / determination:.1f}"),
        ("reference evaluator (plain Python), per case", f"{reference_ms:.3f} ms", f"{1000 / reference_ms:.0f} cases/s",
         f"{reference_ms / determination:.3f}"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("\n".join(json.dumps(c) for c in cases[:batch_size]) + "\n")
        for workers in (1, 2):
            seconds, _ = batch_run(path, workers)
            rate = batch_size / seconds
            rows.append((f"kbquery batch, {batch_size} generated cases, {workers} worker(s)", f"{seconds:.1f} s",
                         f"{rate:.0f} cases/s", f"{(1000 / rate) / determination:.2f}"))
        import_clingo = wall([sys.executable, "-c", "import clingo"], repeat)
        one = Path(tmp) / "one.json"
        one.write_text((ROOT / "examples" / "initial-diagnostic.json").read_text())
        cli = wall([KBQUERY, str(one), "--format", "json"], repeat)
        rows += [(f"`{Path(sys.executable).name} -c 'import clingo'` (wall)", f"{import_clingo:.0f} ms", "", "1.0"),
                 ("`kbquery CASE.json` for one case (wall)", f"{cli:.0f} ms", "", f"{cli / import_clingo:.1f}")]
        for size in memory_sizes:
            path = Path(tmp) / f"mem{size}.jsonl"
            with path.open("w") as f:
                rng = random.Random(size)
                for _ in range(size):
                    f.write(json.dumps(reference.random_case(rng)) + "\n")
            seconds, peak = batch_run(path, 2)
            rows.append((f"peak memory of one batch process, {size} cases, 2 workers", f"{peak / 1024:.0f} MB",
                         f"{size / seconds:.0f} cases/s", ""))
    disagreements = 0
    for case in generated(differential, seed=7):
        mine, theirs = decide(case), reference.reference_decision(case)
        if (mine.determination, mine.request_kind, mine.unmet) != (
                theirs["determination"], theirs["request_kind"], theirs["unmet"]):
            disagreements += 1
    rows.append((f"differential: kbquery against the reference on {differential} generated cases",
                 f"{disagreements} disagreements", "", ""))
    return rows


def table(rows) -> str:
    lines = ["| measure | value | rate | ratio |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(r)} |" for r in rows]) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller batches")
    parser.add_argument("--memory-cases", type=int, nargs="*", default=None,
                        help="batch sizes whose peak memory is measured (default 10000 50000; 1000000 takes hours)")
    parser.add_argument("--differential", type=int, default=None, help="generated cases checked against the reference")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    memory = args.memory_cases if args.memory_cases is not None else ([2000, 5000] if args.quick else [10000, 50000])
    differential = args.differential or (500 if args.quick else 5000)
    started = time.perf_counter()
    rows = rows_speed(repeat, 1000 if args.quick else 4000, memory, differential)
    text = (f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
            f"{len(suite_cases())} suite cases for the in-process figures, median of {repeat} warm runs each; "
            f"ratios are to the determination alone (or to `import clingo`). Took {time.perf_counter() - started:.0f} s.\n\n"
            + table(rows))
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
