"""What a lone case's grounding pays for: the rules of the staged program's `base` part.

    python bench/reach.py            # the suite's cases and 400 generated ones, MC.CP.MP.166

First, the `base` part's grounding (CPU) with nothing to instantiate (no case facts, and not even
the atoms of the STATIC part) beside a Control prepared as `decide` takes it and a case's facts,
in turn: what is left when nothing matches is gringo's own cost per rule. The prepared Control's
other steps (the case's facts added; solving and reading the answer) are timed beside it.

A determination alone pays gringo's preparation of every rule of the `base` part, whatever the
case holds; only rules no case of a kind can reach could be left out for that kind. Each rule is
given a marker rule over the same body, and a rule counts as reached by a kind when its marker
is grounded for some case of that kind: an upper bound on what the kind needs (a body grounded is
not a head derived), so the rules it leaves out are a lower bound on what a split by kind saves.
The rules one case reaches (median by kind) bound any scheme that grounds only what a case needs:
even knowing them in advance, a case would still pay gringo's preparation of those.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import clingo
from clingo import ast

from kbquery import knowledge_base
from kbquery.case import validate
from kbquery.facts import case_symbols
from kbquery.program import STATIC
from kbquery.solve import _models, _one, _staged

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/ is a folder of scripts, not a package)

MARK = "bench_reached__"


def main() -> int:
    kb = knowledge_base()
    statements = _staged(kb)
    start = next(i for i, s in enumerate(statements) if s.ast_type == ast.ASTType.Program and s.name == "base")
    rules = [s for s in statements[start + 1:] if s.ast_type == ast.ASTType.Rule]
    location = statements[0].location
    markers = [ast.Rule(location, ast.Literal(location, ast.Sign.NoSign, ast.SymbolicAtom(
        ast.Function(location, MARK, [ast.SymbolicTerm(location, clingo.Number(i))], 0))), rule.body)
        for i, rule in enumerate(rules)]
    suite = [validate(c, kb.schema) for c in run.suite_cases() if "policy" not in c]
    times: dict[str, list[float]] = defaultdict(list)
    nothing, prepared = "nothing to instantiate", "a prepared Control and the case's facts"
    for _ in range(3):
        for case in suite[::4]:
            for way in (nothing, prepared):
                ctl = clingo.Control(["--warn=none", "--models=2"])
                with ast.ProgramBuilder(ctl) as builder:
                    for statement in (statements[start:] if way == nothing else statements):
                        builder.add(statement)
                if way == prepared:  # as Prepared.solve takes it: the STATIC part grounded beforehand
                    ctl.ground([(STATIC, [])])
                    began = time.thread_time()
                    with ctl.backend() as backend:
                        for sym in case_symbols(case, kb.schema):
                            backend.add_rule([backend.add_atom(sym)])
                    times["the case's facts made and added"].append(time.thread_time() - began)
                began = time.thread_time()
                ctl.ground([("base", [])])
                times[way].append(time.thread_time() - began)
                if way == prepared:
                    began = time.thread_time()
                    _one(_models(ctl, False))
                    times["solving and reading the answer"].append(time.thread_time() - began)
    print(f"| CPU: grounding the {len(rules)} rules of `base` with nothing to instantiate, and a lone case "
          "by step | ms (median) |\n|---|---|")
    for way, seconds in times.items():
        print(f"| {way} | {statistics.median(seconds) * 1000:.2f} |")
    ground = statistics.median(times[prepared])
    rest = sum(statistics.median(times[w]) for w in times if w not in (nothing, prepared))
    print()
    reached: dict[str, set[int]] = defaultdict(set)
    one_case: dict[str, list[int]] = defaultdict(list)
    cases: Counter = Counter()
    for case in [c for c in run.suite_cases() if "policy" not in c] + run.generated(400, 11):
        ctl = clingo.Control(["--warn=none"])
        with ast.ProgramBuilder(ctl) as builder:
            for statement in [*statements, *markers]:
                builder.add(statement)
        with ctl.backend() as backend:
            for sym in case_symbols(validate(case, kb.schema), kb.schema):
                backend.add_rule([backend.add_atom(sym)])
        ctl.ground([(STATIC, []), ("base", [])])
        (kind,) = [str(a.symbol.arguments[0]) for a in ctl.symbolic_atoms.by_signature("kind", 1)]
        cases[kind] += 1
        mine = {a.symbol.arguments[0].number for a in ctl.symbolic_atoms.by_signature(MARK, 1)}
        reached[kind] |= mine
        one_case[kind].append(len(mine))
    print(f"| kind of request | cases | rules of the {len(rules)} in `base` reached by the kind "
          "| by one case (median) |\n|---|---|---|---|")
    for kind in sorted(reached):
        print(f"| {kind} | {cases[kind]} | {len(reached[kind])} | {statistics.median(one_case[kind]):.0f} |")
    every = [n for counts in one_case.values() for n in counts]
    print(f"| every kind | {len(every)} | | {statistics.median(every):.0f} |")
    bound = rest + ground * statistics.median(every) / len(rules)
    print(f"\nGrounding only the rules a case reaches, known in advance for free: {bound * 1000:.2f} ms of CPU "
          f"against {(rest + ground) * 1000:.2f}, {bound / (rest + ground):.2f} of a prepared lone case today.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
