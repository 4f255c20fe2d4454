"""Where a case's time goes when many are decided together (kbquery.decide_many), in ms per case.

    python bench/stages.py           # 1,000 generated cases, PER_CONTROL (200) to a Control as a batch worker takes them
    python bench/stages.py --cases 5000

Each stage is timed through the package's own functions, on the same cases, warm; CPU time of
this process, so that other work on a shared machine counts less.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from kbquery import decide_many, knowledge_base
from kbquery.case import parse, validate
from kbquery.determination import read
from kbquery.facts import case_symbols
from kbquery.solve import PER_CONTROL, solve_many

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402  (bench/ is a folder of scripts, not a package)


def stages(texts: list[str]) -> dict[str, float]:
    kb = knowledge_base()
    windows = [texts[i:i + PER_CONTROL] for i in range(0, len(texts), PER_CONTROL)]
    times: dict[str, float] = {}

    def timed(name, fn):
        start = time.process_time()
        result = fn()
        times[name] = times.get(name, 0.0) + time.process_time() - start
        return result

    for window in windows:
        cases = timed("read JSON", lambda: [parse(t) for t in window])
        valid = timed("validate", lambda: [validate(c, kb.schema) for c in cases])
        timed("build facts (also inside solve_many)", lambda: [case_symbols(c, kb.schema, k) for k, c in enumerate(valid)])
        timed("solve_many with the whole program (as before the decision-only one), for comparison",
              lambda: solve_many(kb, valid, decision=False))
        answers = timed("solve_many: facts, grounding, solving, split by case", lambda: solve_many(kb, valid))
        determinations = timed("read determinations", lambda: [read(a, kb, c) for a, c in zip(answers, valid)])
        timed("to JSON", lambda: [json.dumps(d.to_dict()) for d in determinations])
    timed("decide_many, for comparison", lambda: [decide_many([parse(t) for t in w]) for w in windows])
    return {name: seconds * 1000 / len(texts) for name, seconds in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args(argv)
    rng = random.Random(3)
    texts = [json.dumps(reference.random_case(rng)) for _ in range(args.cases)]
    stages(texts[:PER_CONTROL])  # warm
    print(f"| stage ({args.cases} generated cases, {PER_CONTROL} per Control) | CPU ms per case |\n|---|---|")
    for name, ms in stages(texts).items():
        print(f"| {name} | {ms:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
