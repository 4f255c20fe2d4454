"""The benchmark: measured figures, side by side as ratios, all from one run on this machine.

    python bench/run.py            # writes bench/results.md and prints it (a batch of a million cases)
    python bench/run.py --quick    # fewer repetitions and smaller batches
    python bench/run.py --qa-only  # only `kbquery qa`: wall time, and whether it was exhaustive
    python bench/run.py --compare-only  # only `kbquery compare MC.CP.MP.166 L39383`, likewise
    python bench/run.py --serve-only  # only `kbquery serve` under load and faults (bench/serve_load.py)

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

import os

from kbquery import decide, decide_many, knowledge_base
from kbquery.case import validate
from kbquery.determination import read
from kbquery.explain import explain
from kbquery.explain.text import render_text
from kbquery.knowledge import DEFAULT_POLICY
from kbquery.solve import PER_CONTROL, case_control, ground, prepared, solve, solve_many

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


def wall(cmd: list[str], repeat: int, env: dict | None = None) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True, env={**os.environ, **(env or {})})
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def generated(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [reference.random_case(rng) for _ in range(n)]


def many_ms(items: list[dict], repeat: int, size: int = 200) -> float:
    """Median per-case time of kbquery.decide_many over `size` cases at a time, warm."""
    cases = (items * (size // len(items) + 1))[:size]
    decide_many(cases)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        decide_many(cases)
        runs.append((time.perf_counter() - start) / size)
    return statistics.median(runs) * 1000


def clingo_ms(cases: list[dict], repeat: int) -> tuple[float, float]:
    """clingo's own time, without the Python around it, in ms: the rules grounded and solved with no
    case facts (what one case alone costs at the least), and per case when PER_CONTROL cases share a
    Control (the Control and the facts are made before the clock starts)."""
    kb = knowledge_base()
    runs = []
    for _ in range(3 * repeat):
        start = time.perf_counter()
        ground(kb, []).solve()
        runs.append(time.perf_counter() - start)
    valid = [validate(case, kb.schema) for case in cases]
    seconds = 0.0
    for at in range(0, len(valid), PER_CONTROL):
        ctl = case_control(kb, valid[at:at + PER_CONTROL])
        start = time.perf_counter()
        ctl.ground([("base", [])])
        ctl.solve()
        seconds += time.perf_counter() - start
    return statistics.median(runs) * 1000, seconds / len(valid) * 1000


def batch_run(cases_file: Path, out: Path, workers: int, env: dict | None = None) -> tuple[float, int]:
    """Seconds for `kbquery batch` on the file, and the peak RSS (KiB) of its largest process."""
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([KBQUERY, "batch", str(cases_file), "-o", str(out), "--workers", str(workers)],
                   check=True, capture_output=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def differential(out: Path, seed: int, disagreements_dir: Path) -> tuple[int, int]:
    """The batch's records against the reference on the same generated cases: (compared, disagreeing).

    Each disagreement is written as a case file under `disagreements_dir`."""
    rng, compared, disagreeing = random.Random(seed), 0, 0
    with out.open(encoding="utf-8") as lines:
        for line in lines:
            case, record = reference.random_case(rng), json.loads(line)
            theirs = reference.reference_decision(case)
            mine = {k: record.get(k) for k in ("determination", "request_kind", "unmet")}
            compared += 1
            if mine != theirs:
                disagreeing += 1
                disagreements_dir.mkdir(parents=True, exist_ok=True)
                (disagreements_dir / f"disagreement-{record['line']}.json").write_text(json.dumps(
                    {"description": "differential: kbquery batch and bench/reference.py disagree",
                     "case": case, "expect": theirs, "kbquery": mine}, indent=2) + "\n")
    return compared, disagreeing


def rows_speed(repeat: int, batch_size: int, big: int, seed: int) -> list[tuple]:
    items = suite_cases()
    determination = median_ms(decide, items, repeat)
    many = many_ms(items, repeat)
    with_graph = median_ms(lambda c: render_text(explain(decide(c)).graph), items, repeat)
    with_why_not = median_ms(lambda c: explain(decide(c)).text(), items, repeat)
    cases = generated(max(batch_size, 2000))
    alone, shared = clingo_ms(cases[:1000], repeat)
    ref_start = time.perf_counter()
    for case in cases:
        reference.reference_decision(case)
    reference_ms = (time.perf_counter() - ref_start) / len(cases) * 1000
    rows = [
        ("determination in process, one case at a time, warm (median)", f"{determination:.2f} ms",
         f"{1000 / determination:.0f} cases/s", "1.0"),
        ("determinations in process, 200 at a time (`decide_many`), per case (median)", f"{many:.2f} ms",
         f"{1000 / many:.0f} cases/s", f"{many / determination:.2f}"),
        ("... one at a time with the justification graph and text tree", f"{with_graph:.2f} ms",
         f"{1000 / with_graph:.0f} cases/s", f"{with_graph / determination:.1f}"),
        ("... one at a time with graph, tree and why-not counterfactuals", f"{with_why_not:.2f} ms",
         f"{1000 / with_why_not:.0f} cases/s", f"{with_why_not / determination:.1f}"),
        ("clingo alone for one case: the rules grounded and solved with no case facts (median)",
         f"{alone:.2f} ms", f"{1000 / alone:.0f} cases/s at most", f"{alone / determination:.2f}"),
        (f"clingo alone for 1000 generated cases, {PER_CONTROL} to a Control: grounding and solving, per case",
         f"{shared:.2f} ms", f"{2000 / shared:.0f} cases/s at most on 2 cores", f"{shared / determination:.2f}"),
        ("reference evaluator (plain Python), per case", f"{reference_ms:.3f} ms", f"{1000 / reference_ms:.0f} cases/s",
         f"{reference_ms / determination:.3f}"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "cases.jsonl", Path(tmp) / "out.jsonl"
        path.write_text("\n".join(json.dumps(c) for c in cases[:batch_size]) + "\n")
        for workers in (1, 2):
            seconds, _ = batch_run(path, out, workers)
            rate = batch_size / seconds
            rows.append((f"kbquery batch, {batch_size} generated cases, {workers} worker(s)", f"{seconds:.1f} s",
                         f"{rate:.0f} cases/s", f"{(1000 / rate) / determination:.2f}"))
        import_clingo = wall([sys.executable, "-c", "import clingo"], repeat)
        one = Path(tmp) / "one.json"
        one.write_text((ROOT / "examples" / "initial-diagnostic.json").read_text())
        cli = wall([KBQUERY, str(one), "--format", "json"], repeat)
        rows += [(f"`{Path(sys.executable).name} -c 'import clingo'` (wall)", f"{import_clingo:.0f} ms", "", "1.0"),
                 ("`kbquery CASE.json` for one case (wall)", f"{cli:.0f} ms", "", f"{cli / import_clingo:.1f}")]
        # One large batch gives the peak memory and, checked against the reference, the differential.
        path = Path(tmp) / "big.jsonl"
        rng = random.Random(seed)
        with path.open("w") as f:
            for _ in range(big):
                f.write(json.dumps(reference.random_case(rng)) + "\n")
        seconds, peak = batch_run(path, out, 2)
        rows.append((f"peak memory of one batch process, {big} generated cases, 2 workers", f"{peak / 1024:.0f} MB",
                     f"{big / seconds:.0f} cases/s", ""))
        compared, disagreeing = differential(out, seed, ROOT / "bench" / "disagreements")
    rows.append((f"differential: kbquery batch against the reference on those {compared} cases (seed {seed})",
                 f"{disagreeing} disagreements", "", "" if not disagreeing else "case files in bench/disagreements/"))
    return rows


def interleaved_ms(fns: dict, items: list, repeat: int, pause: dict | None = None,
                   clock=time.perf_counter) -> dict[str, float]:
    """Like median_ms for several ways of doing the same thing, taken in turn on each item so that
    they share the machine's noise; `pause` (seconds before a way's timed run) leaves it idle time.
    `clock`: wall time, or time.thread_time for the CPU time of the calling thread alone."""
    per_item: dict[str, list[float]] = {name: [] for name in fns}
    for item in items:
        runs: dict[str, list[float]] = {name: [] for name in fns}
        for name, fn in fns.items():
            fn(item)
        for _ in range(repeat):
            for name, fn in fns.items():
                if pause and name in pause:
                    time.sleep(pause[name])
                start = clock()
                fn(item)
                runs[name].append(clock() - start)
        for name in fns:
            per_item[name].append(statistics.median(runs[name]))
    return {name: statistics.median(values) * 1000 for name, values in per_item.items()}


# The revision whose figures issue #16 started from (bench/results.md of 2026-11-30: a warm
# determination 8.03 ms, kbquery batch 532 cases/s on 2 workers); its targets are ratios to it.
BEFORE = "7248bbb"


def revision_site(rev: str, folder: Path) -> Path:
    """A folder to put on PYTHONPATH that imports the package as revision `rev` had it: its py/ as
    kbquery, with its explain/ and kb/ (the layout pyproject.toml's package-dir gives)."""
    tree, site = folder / "tree", folder / "site" / "kbquery"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "py", "explain", "kb"], capture_output=True)
    if archive.returncode:
        raise SystemExit(f"cannot take revision {rev} from git (a shallow clone lacks it: "
                         f"git fetch --unshallow): {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    site.mkdir(parents=True)
    for item in (tree / "py").iterdir():
        (site / item.name).symlink_to(item)
    (site / "explain").symlink_to(tree / "explain")
    (site / "kb").symlink_to(tree / "kb")
    return site.parent


def rows_before(rev: str, repeat: int, batch_size: int) -> list[tuple]:
    """This checkout against revision `rev`, in turn in one run: a warm determination (bench/lone.py
    over the suite's cases, each revision in a process of its own) and kbquery batch on 2 workers."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        site = revision_site(rev, tmp / "before")
        ways = {"before": {"PYTHONPATH": str(site), "KBQUERY_CACHE": "off"},
                "now": {"KBQUERY_CACHE": str(tmp / "derived")}}
        suite = [json.dumps(c) for c in suite_cases() if "policy" not in c]
        cases = tmp / "suite.jsonl"
        cases.write_text("\n".join(suite) + "\n")
        lone = {way: subprocess.Popen([sys.executable, str(ROOT / "bench" / "lone.py"), str(repeat)], cwd=tmp,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      env={**os.environ, **env}) for way, env in ways.items()}

        def ask(way: str, case: str) -> dict:
            lone[way].stdin.write(case + "\n")
            lone[way].stdin.flush()
            return json.loads(lone[way].stdout.readline())

        for case in suite:  # warm: each process has met every case once
            for way in ways:
                ask(way, case)
        timings: dict[str, list[dict]] = {way: [] for way in ways}
        for number, case in enumerate(suite * 2):  # case by case, in turn, each order half the time
            order = list(ways) if number % 2 else list(ways)[::-1]
            answers = {way: ask(way, case) for way in order}
            if not any("refused" in a for a in answers.values()):
                for way, answer in answers.items():
                    timings[way].append(answer)
        for process in lone.values():
            process.stdin.close()
            process.wait()
        ms = {way: statistics.median(t["ms"] for t in runs) for way, runs in timings.items()}
        cpu = {way: statistics.median(t["cpu_ms"] for t in runs) for way, runs in timings.items()}
        counted = len(timings["now"]) // 2
        paired = statistics.median(n["ms"] / b["ms"] for n, b in zip(timings["now"], timings["before"]))
        batch, out = tmp / "cases.jsonl", tmp / "out.jsonl"
        batch.write_text("\n".join(json.dumps(c) for c in generated(batch_size)) + "\n")
        cli = [sys.executable, "-c", "import sys; from kbquery.cli import main; sys.exit(main())", "batch"]
        subprocess.run(cli + [str(cases), "-o", str(tmp / "warm.jsonl")], check=True,
                       capture_output=True, cwd=tmp, env={**os.environ, **ways["now"]})  # the derived programs kept
        command = cli + [str(batch), "-o", str(out), "--workers", "2"]
        rates: dict[str, float] = {}
        for _ in range(2):  # in turn, the best of two runs each
            for way, env in ways.items():
                out.unlink(missing_ok=True)
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, cwd=tmp, env={**os.environ, **env})
                rates[way] = max(rates.get(way, 0.0), batch_size / (time.perf_counter() - start))
    return [
        (f"one warm determination in process (`kbquery.decide`, median over {counted} suite cases that both "
         f"revisions read, each twice), revision {rev}: where issue #16 started",
         f"{ms['before']:.2f} ms (CPU {cpu['before']:.2f} ms)",
         f"{1000 / ms['before']:.0f} cases/s", "1.00"),
        ("... this checkout, asked in turn with it, case by case", f"{ms['now']:.2f} ms (CPU {cpu['now']:.2f} ms)",
         f"{1000 / ms['now']:.0f} cases/s",
         f"{ms['now'] / ms['before']:.2f} (CPU {cpu['now'] / cpu['before']:.2f}; case by case {paired:.2f})"),
        (f"kbquery batch, {batch_size} generated cases, 2 workers, revision {rev} (best of 2)",
         f"{batch_size / rates['before']:.1f} s", f"{rates['before']:.0f} cases/s", "1.00"),
        ("... this checkout", f"{batch_size / rates['now']:.1f} s", f"{rates['now']:.0f} cases/s",
         f"{rates['before'] / rates['now']:.2f}"),
    ]


def _kb_of(case: dict):
    return knowledge_base(case.get("policy", DEFAULT_POLICY))


def _lone(case: dict, decision: bool, pooled: bool = False):
    """A determination as `decide` makes it (validated, solved, read back), from the whole program,
    the decision-only one, or a Control of the process's prepared pool."""
    kb = _kb_of(case)
    valid = validate(case, kb.schema)
    answer = prepared(kb).solve(valid) if pooled else solve(kb, valid, decision=decision)
    return read(answer, kb, valid)


def _many(cases: list[dict], decision: bool) -> None:
    groups: dict = {}
    for case in cases:
        groups.setdefault(_kb_of(case), []).append(case)
    for kb, members in groups.items():
        valid = [validate(c, kb.schema) for c in members]
        for answer, case in zip(solve_many(kb, valid, decision=decision), valid):
            read(answer, kb, case)


def _floors(cases: list[dict], repeat: int) -> dict[str, float]:
    """clingo alone, in ms of CPU (the calling thread's), the ways taken in turn: one case with no
    facts in a fresh Control, whole or decision-only; the rest of a prepared Control; and per case
    among PER_CONTROL sharing a Control, whole or decision-only."""
    kb = knowledge_base(DEFAULT_POLICY)
    pool = prepared(kb)
    runs: dict[str, list[float]] = {}

    def timed(name: str, fn) -> None:
        start = time.thread_time()
        fn()
        runs.setdefault(name, []).append(time.thread_time() - start)

    for _ in range(3 * repeat):
        timed("alone, whole", lambda: ground(kb, [], decision=False).solve())
        timed("alone, decision", lambda: ground(kb, [], decision=True).solve())
        ctl = pool._make()
        timed("alone, prepared", lambda: (ctl.ground([("base", [])]), ctl.solve()))
    valid = [validate(case, kb.schema) for case in cases]
    for at in range(0, len(valid), PER_CONTROL):
        window = valid[at:at + PER_CONTROL]
        for decision, name in ((False, "shared, whole"), (True, "shared, decision")):
            ctl = case_control(kb, window, decision=decision)
            timed(name, lambda: (ctl.ground([("base", [])]), ctl.solve()))
            runs[name][-1] /= len(window)
    return {name: statistics.median(values) * 1000 for name, values in runs.items()}


def rows_determinations(repeat: int, batch_size: int, every: int = 1) -> list[tuple]:
    """The decision-only program and prepared Controls against the whole program (what every
    determination solved before them), in one run: each ratio is to the whole program's figure.
    The in-process rows take every `every`-th suite case."""
    rows = rows_before(BEFORE, repeat, batch_size)
    items = suite_cases()[::every]
    for kb in {_kb_of(c) for c in items}:
        prepared(kb)
    time.sleep(1)
    ways = {
        "whole": lambda c: _lone(c, False),
        "decision": lambda c: _lone(c, True),
        "prepared": lambda c: _lone(c, True, pooled=True),
        "prepared, idle": lambda c: _lone(c, True, pooled=True),
        "decide": decide,
    }
    lone = interleaved_ms(ways, items, repeat, pause={"prepared, idle": 0.05})
    cpu = interleaved_ms(ways, items, repeat, pause={"prepared, idle": 0.05}, clock=time.thread_time)
    w, wc = lone["whole"], cpu["whole"]

    def lone_row(text: str, name: str, rate: bool = True) -> tuple:
        return (text, f"{lone[name]:.2f} ms (CPU of the request's thread {cpu[name]:.2f} ms)",
                f"{1000 / lone[name]:.0f} cases/s" if rate else "", f"{lone[name] / w:.2f} (CPU {cpu[name] / wc:.2f})")

    rows += [
        lone_row("one determination in process, warm (median), the whole program: as before", "whole"),
        lone_row("... the decision-only program", "decision"),
        lone_row("... decision-only, a Control prepared ahead, requests back to back (the pool refills meanwhile)",
                 "prepared"),
        lone_row("... decision-only, a Control prepared ahead, 50 ms idle before each request (a service, a notebook)",
                 "prepared, idle", rate=False),
        lone_row("... `kbquery.decide` as it is (warm: its pool started)", "decide"),
    ]
    many_items = (items * (200 // len(items) + 1))[:200]
    many = interleaved_ms({"whole": lambda cs: _many(cs, False), "decision": lambda cs: _many(cs, True)},
                          [many_items], repeat)
    rows += [("200 determinations at a time (`decide_many`), per case, the whole program", f"{many['whole'] / 200:.2f} ms",
              f"{200000 / many['whole']:.0f} cases/s", f"{many['whole'] / 200 / w:.2f}"),
             ("... the decision-only program", f"{many['decision'] / 200:.2f} ms",
              f"{200000 / many['decision']:.0f} cases/s", f"{many['decision'] / 200 / w:.2f}")]
    cases = generated(max(batch_size, 1000))
    floors = _floors(cases[:1000], repeat)
    a, s_ = floors["alone, whole"], floors["shared, whole"]
    rows += [
        ("clingo alone (CPU), one case with no facts, the whole program", f"{a:.2f} ms", f"{1000 / a:.0f} cases/s at most", "1.0"),
        ("... the decision-only program", f"{floors['alone, decision']:.2f} ms", "", f"{floors['alone, decision'] / a:.2f}"),
        ("... the rest of a prepared Control (decision-only, the rules no case reaches grounded ahead)",
         f"{floors['alone, prepared']:.2f} ms", f"{1000 / floors['alone, prepared']:.0f} cases/s at most",
         f"{floors['alone, prepared'] / a:.2f}"),
        (f"clingo alone (CPU), 1000 generated cases, {PER_CONTROL} to a Control, per case, the whole program",
         f"{s_:.2f} ms", f"{2000 / s_:.0f} cases/s at most on 2 cores", "1.0"),
        ("... the decision-only program", f"{floors['shared, decision']:.2f} ms",
         f"{2000 / floors['shared, decision']:.0f} cases/s at most on 2 cores", f"{floors['shared, decision'] / s_:.2f}"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "cases.jsonl", Path(tmp) / "out.jsonl"
        path.write_text("\n".join(json.dumps(c) for c in cases[:batch_size]) + "\n")
        # As before (the whole program, derived in every worker), and the ways since.
        ways = {"whole": {"KBQUERY_DECISION_PROGRAM": "0", "KBQUERY_CACHE": "off"},
                "decision": {"KBQUERY_DECISION_PROGRAM": "1", "KBQUERY_CACHE": "off"},
                "kept": {"KBQUERY_DECISION_PROGRAM": "1", "KBQUERY_CACHE": str(Path(tmp) / "derived")}}
        two = Path(tmp) / "two.jsonl"
        two.write_text("\n".join(json.dumps(c) for c in cases[:2]) + "\n")
        batch_run(two, out, 1, ways["kept"])  # writes the derived programs once, as any earlier run would
        for workers in (1, 2):
            rates: dict[str, float] = {}
            for _ in range(2):  # in turn, the best of two runs each: the one least disturbed
                for way, env in ways.items():
                    seconds, _ = batch_run(path, out, workers, env)
                    rates[way] = max(rates.get(way, 0.0), batch_size / seconds)
            rows += [(f"kbquery batch, {batch_size} generated cases, {workers} worker(s), the whole program, "
                      "derived in each worker (best of 2)", f"{batch_size / rates['whole']:.1f} s",
                      f"{rates['whole']:.0f} cases/s", "1.0"),
                     ("... the decision-only program, derived in each worker", f"{batch_size / rates['decision']:.1f} s",
                      f"{rates['decision']:.0f} cases/s", f"{rates['whole'] / rates['decision']:.2f}"),
                     ("... the decision-only program, derived once and kept (kbquery.derived): as it is",
                      f"{batch_size / rates['kept']:.1f} s", f"{rates['kept']:.0f} cases/s",
                      f"{rates['whole'] / rates['kept']:.2f}")]
        import_clingo = wall([sys.executable, "-c", "import clingo"], repeat)
        one = Path(tmp) / "one.json"
        one.write_text((ROOT / "examples" / "initial-diagnostic.json").read_text())
        cli = {d: wall([KBQUERY, str(one), "--format", "json"], repeat, {"KBQUERY_DECISION_PROGRAM": d}) for d in "01"}
        rows += [(f"`{Path(sys.executable).name} -c 'import clingo'` (wall)", f"{import_clingo:.0f} ms", "", "1.0"),
                 ("`kbquery CASE.json` for one case (wall), as before (KBQUERY_DECISION_PROGRAM=0)", f"{cli['0']:.0f} ms", "",
                  f"{cli['0'] / import_clingo:.1f}"),
                 ("... as it is (one case alone grounds the whole program: nothing derived, no pool)",
                  f"{cli['1']:.0f} ms", "", f"{cli['1'] / import_clingo:.1f}")]
    return rows


def _searches(args: list[str], repeat: int) -> tuple[float, list[dict], str]:
    """A bounded search command run `repeat` times with JSON output: the median wall time, the
    reports, and how they read (exhaustive or not, and whether any two differ beyond their timings)."""
    runs, reports = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run([KBQUERY, *args, "--format", "json"], check=False, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        reports.append(json.loads(done.stdout))
    exhaustive = all(r["exhaustive"] for r in reports)
    same = len({json.dumps({k: v for k, v in r.items() if k not in ("seconds", "ground_seconds")}) for r in reports}) == 1
    said = ("exhaustive" if exhaustive else "NOT exhaustive") + ("" if same else ", REPORTS DIFFER between runs")
    return statistics.median(runs), reports, said


def rows_qa(repeat: int) -> list[tuple]:
    """`kbquery qa` as CI runs it: wall time (median), and whether the search was exhaustive. The
    search is bounded in solver conflicts, so its findings are the same however long it takes."""
    seconds, reports, said = _searches(["qa"], repeat)
    return [(f"`kbquery qa` (wall, median of {repeat}): {said}, {reports[0]['conflicts']} solver conflicts, "
             f"{len(reports[0]['findings'])} findings", f"{seconds:.1f} s", "", "target: at most 15 s, exhaustive")]


COMPARE = ["MC.CP.MP.166", "L39383"]  # the plan's policy against the LCD, as CI compares them


def rows_compare(repeat: int) -> list[tuple]:
    """`kbquery compare` as CI runs it: wall time (median), and whether the search was exhaustive;
    bounded in solver conflicts like QA, so its findings are the same however long it takes."""
    seconds, reports, said = _searches(["compare", *COMPARE], repeat)
    return [(f"`kbquery compare {' '.join(COMPARE)}` (wall, median of {repeat}): {said}, "
             f"{reports[0]['conflicts']} solver conflicts, {len(reports[0]['differences'])} differences, "
             f"{len(reports[0]['criteria'])} criteria", f"{seconds:.1f} s", "",
             "target: at most 60 s on 2 cores, exhaustive")]


def table(rows) -> str:
    lines = ["| measure | value | rate | ratio |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(r)} |" for r in rows]) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller batches")
    parser.add_argument("--cases", type=int, default=None,
                        help="generated cases in the large batch, for peak memory and the differential "
                             "(default 1000000, 20000 with --quick)")
    parser.add_argument("--seed", type=int, default=1000000,
                        help="the large batch's generator seed: another seed, other cases for the differential")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument("--qa-only", action="store_true",
                        help="only the `kbquery qa` row (printed, results.md left alone)")
    parser.add_argument("--serve-only", action="store_true",
                        help="only the `kbquery serve` load and fault row (bench/serve_load.py; printed)")
    parser.add_argument("--determinations", action="store_true",
                        help="only the rows that compare the whole program, the decision-only one and prepared "
                             "Controls (a few minutes; printed and written to bench/results-determinations.md)")
    parser.add_argument("--compare-only", action="store_true",
                        help="only the `kbquery compare` row (printed, results.md left alone)")
    args = parser.parse_args(argv)
    if args.compare_only:
        print(table(rows_compare(3 if args.quick else 5)))
        return 0
    if args.determinations:
        started = time.perf_counter()
        repeat = 3 if args.quick else 5
        every = 4 if args.quick else 1
        rows = rows_determinations(repeat, 2000 if args.quick else 4000, every)
        text = (f"# Determinations: the whole program, the decision-only one, prepared Controls\n\n"
                f"{time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
                f"{len(suite_cases()[::every])} suite cases, "
                f"median of {repeat} warm runs each, the ways taken in turn on each case; the first four rows are "
                f"ratios to revision {BEFORE} (where the speed targets were set), the rest to the whole "
                f"program's figure in the same run (or to `import clingo`). Took {time.perf_counter() - started:.0f} s.\n\n"
                + table(rows))
        (ROOT / "bench" / "results-determinations.md").write_text(text)
        print(text)
        return 0
    if args.qa_only:
        print(table(rows_qa(3 if args.quick else 5)))
        return 0
    if args.serve_only:
        import serve_load

        print(table(serve_load.rows(300 if args.quick else 600)))
        return 0
    repeat = 3 if args.quick else 7
    big = args.cases or (20000 if args.quick else 1000000)
    started = time.perf_counter()
    rows = rows_speed(repeat, 1000 if args.quick else 4000, big, args.seed) + rows_qa(3 if args.quick else 5)
    rows += rows_compare(3 if args.quick else 5)
    text = (f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
            f"{len(suite_cases())} suite cases for the in-process figures, median of {repeat} warm runs each; "
            f"ratios are to the determination alone (or to `import clingo`). Took {time.perf_counter() - started:.0f} s.\n\n"
            + table(rows))
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
