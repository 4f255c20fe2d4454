"""Policy QA over the whole input space: contradictions, gaps, overlaps, dead rules, never-decisive
criteria and unreachable determinations, each finding with a witness case.

The search space is generated in ASP (kb/common/qa_space.lp) from the case schema, lists unrolled
to the policy's bounds and numbers and dates cut at its thresholds (kb/<policy>/qa.lp); the
policy's rules are reused unchanged, each rule with a body given a twin `qa_fired(Id) :- Body.`
so that a rule no case can fire shows (a rule whose head nothing reads, an explanation's wording,
is left to its twin alone). One grounding; then one solve call that enumerates cases, each model
adding the clause "reach something not reached yet", until no case can.

What QA reports is a function of the rules alone, never of the machine's speed: the search is
bounded in solver conflicts (clasp's unit of work), not in seconds, runs single-threaded with a
fixed seed, and each witness is the proven smallest (core-guided optimisation) when its own
bound allows. A search that stops at its bound says so, and the report is then not exhaustive.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import clingo
from clingo import ast

from .knowledge import KnowledgeBase, knowledge_base
from .program import head_names, names
from .symbols import day_number, json_value, path_symbol, scalar_symbol, symbol_path
from .workers import run_parts

SPACE = "common/qa_space.lp"
CHECKS = "common/qa_checks.lp"
POLICY_QA = "qa.lp"
GUARDS = ("kb_error(", "bad_reading(", "contradiction(")  # rules that flag a fault: never firing is good news
TARGETS = ("qa_outcome", "qa_status", "qa_contradiction", "qa_decisive", "qa_gap", "qa_overlap", "qa_fired")
CASE_ATOMS = ("value", "present", "length")
F, N = clingo.Function, clingo.Number

# Bounds on the solver's work, in conflicts: a count, so the same rules give the same report on
# any machine however loaded. The whole search takes about 25,000 on MC.CP.MP.166.
CONFLICTS = 500_000          # the search for what can be reached, per worker
WITNESS_CONFLICTS = 50_000   # the proof that a witness is the smallest, per finding


# ---------------------------------------------------------------------------- the space from the schema

def _static_facts(path: Path) -> list[clingo.Symbol]:
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(path))
    ctl.ground([("base", [])])
    return [a.symbol for a in ctl.symbolic_atoms if a.is_fact]


def _pattern(path: tuple) -> tuple:
    return tuple("any" if isinstance(p, int) else p for p in path)


def space_facts(schema: dict, bounds: dict[tuple, int]) -> list[clingo.Symbol]:
    """qa_node/qa_parent/qa_required/qa_item/qa_key/qa_option/qa_date_order for every field."""
    facts: list[clingo.Symbol] = []
    dates: list[tuple] = []

    def visit(sub: dict, path: tuple, parent, required: bool) -> None:
        kind = {"object": "object", "array": "list"}.get(sub.get("type"), "scalar")
        p = path_symbol(path)
        facts.extend([F("qa_node", [p, F(kind)]), F("qa_parent", [p, parent]),
                      F("qa_key", [p, path_symbol(_pattern(path))])])
        if required:
            facts.append(F("qa_required", [p]))
        if kind == "object":
            for key, child in sub.get("properties", {}).items():
                visit(child, path + (key,), p, key in sub.get("required", []))
        elif kind == "list":
            bound = min(bounds.get(_pattern(path), 0), sub.get("maxItems", 0))
            for i in range(bound):
                facts.append(F("qa_item", [p, N(i), path_symbol(path + (i,))]))
                visit(sub.get("items", {}), path + (i,), p, False)
        else:
            if sub.get("format") == "date":
                dates.append(path)
            values = sub.get("enum", [True, False] if sub.get("type") == "boolean" else [])
            key = path_symbol(_pattern(path))
            facts.extend(F("qa_option", [key, scalar_symbol(v, closed=True)]) for v in values)

    for key, sub in schema["properties"].items():
        visit(sub, (key,), F("root"), key in schema.get("required", []))
    return list(dict.fromkeys(facts)) + _date_order(schema, dates)


def _date_order(schema: dict, dates: list[tuple]) -> list[clingo.Symbol]:
    """The case reader's date rules over the unrolled paths: qa_date_order(Earlier, Later)."""
    pairs = []
    reference = tuple(schema.get("x-reference-date", "").split("."))
    for path in dates:
        if path != reference:
            pairs.append((path, reference))
    for earlier, later in schema.get("x-date-order", []):
        e_pat, l_pat = (tuple(x.replace("[]", ".[]").split(".")) for x in (earlier, later))
        for lp in dates:
            if len(lp) != len(l_pat) or any(a != b and not (b == "[]" and isinstance(a, int)) for a, b in zip(lp, l_pat)):
                continue
            indices = iter([p for p in lp if isinstance(p, int)])
            ep = tuple(next(indices) if part == "[]" else part for part in e_pat)
            pairs.append((ep, lp))
    return [F("qa_date_order", [path_symbol(a), path_symbol(b)]) for a, b in pairs]


CALENDAR = (dt.date(2024, 1, 1), dt.date(2027, 12, 31))  # the days a search's dates may fall on


def calendar_facts(first: dt.date, last: dt.date) -> list[clingo.Symbol]:
    days = []
    d = first
    while d <= last:
        days.append(F("calendar", [N(day_number(d.isoformat())), N(d.year), N(d.month), N(d.day)]))
        d += dt.timedelta(days=1)
    return days


# ---------------------------------------------------------------------------- the rules, instrumented

@dataclass(frozen=True)
class RuleSite:
    id: str
    text: str
    shared: bool  # a rule of kb/common, which other policies load too


def instrumented(kb: KnowledgeBase) -> tuple[list[ast.AST], dict[str, RuleSite]]:
    """The policy's statements, and for each rule with a body a twin `qa_fired(Id) :- Body.`: the
    policy's own rules (`section_I.lp:124`) and the shared ones it loads (`common/history.lp:62`)."""
    statements: list[ast.AST] = []
    sites: dict[str, RuleSite] = {}
    for path in kb.rule_files:
        lines = path.read_text(encoding="utf-8").splitlines()
        shared = path.parent != kb.folder.resolve()
        name = f"{path.parent.name}/{path.name}" if shared else path.name

        def add(stmt, name=name, shared=shared, lines=lines):
            statements.append(stmt)
            if stmt.ast_type == ast.ASTType.Rule and stmt.body:
                loc = stmt.location
                rid = f"{name}:{loc.begin.line}"
                sites[rid] = RuleSite(rid, " ".join(l.strip() for l in lines[loc.begin.line - 1: loc.end.line]), shared)
                head = ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(
                    ast.Function(loc, "qa_fired", [ast.SymbolicTerm(loc, clingo.String(rid))], False)))
                statements.append(ast.Rule(loc, head, stmt.body))

        ast.parse_files([str(path)], add)
    return statements, sites


# ---------------------------------------------------------------------------- findings

@dataclass
class Finding:
    check: str          # contradiction, gap, overlap, dead_rule, never_decisive, status_never_reached, unreachable
    subject: str
    detail: str
    witness: dict | None = None
    claim: dict = field(default_factory=dict)  # what kbquery must decide for the witness
    verified: bool | None = None               # whether kbquery decided the witness as claimed
    rule_kind: str | None = None               # a dead rule's: guard, other_reading, shared (of kb/common, for another policy) or dead
    minimal: bool | None = None                # whether the witness is proved to have the fewest documented fields


def _case_from(model_atoms: list[clingo.Symbol]) -> dict:
    """The case a model generated, as JSON: objects, lists and scalars from present/value/length."""
    case: dict = {}
    present = sorted((symbol_path(s.arguments[0]) for s in model_atoms if s.match("present", 1)),
                     key=lambda p: (len(p), tuple((0, x) if isinstance(x, int) else (1, x) for x in p)))
    values = {symbol_path(s.arguments[0]): json_value(s.arguments[1]) for s in model_atoms if s.match("value", 2)}
    lists = {symbol_path(s.arguments[0]) for s in model_atoms if s.match("length", 2)}

    def container(path):
        node = case
        for i, key in enumerate(path[:-1]):
            node = node[key]
        return node

    for path in present:
        value = [] if path in lists else values[path] if path in values else {}
        parent = container(path)
        if isinstance(parent, list):
            parent.append(value)
        else:
            parent[path[-1]] = value
    return case


def _mentions(stmt) -> set[str]:
    """The predicates a statement reads: its body and the conditions of its head; #show reads nothing."""
    if stmt.ast_type in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm):
        return set()
    if stmt.ast_type != ast.ASTType.Rule:
        return names(stmt)
    return (names(stmt.head) - head_names(stmt)).union(*(names(b) for b in stmt.body))


def read_only(statements: list[ast.AST]) -> list[ast.AST]:
    """The statements without the rules whose heads nothing reads (an explanation's wording, say):
    they cannot change a case's evaluation, and their twins still show whether they fire."""
    mentioned = set().union(*(_mentions(s) for s in statements))

    def unread(stmt):  # a plain head: a choice's or an aggregate's bounds may constrain the rest
        if stmt.ast_type != ast.ASTType.Rule or stmt.head.ast_type != ast.ASTType.Literal:
            return False
        heads = head_names(stmt)
        return bool(heads) and not heads & mentioned and not any(h.startswith("qa_") for h in heads)

    return [s for s in statements if not unread(s)]


@dataclass
class Space:
    """What a search generates cases from, besides the schema: bounds on lists, the statements that
    set the values tried for each field (a policy's qa.lp), and any further facts."""
    bounds: dict[tuple, int]
    statements: list[ast.AST]
    facts: list[clingo.Symbol] = field(default_factory=list)


def policy_space(kb: KnowledgeBase) -> Space:
    """A policy's own search space: its qa.lp."""
    statements: list[ast.AST] = []
    ast.parse_files([str(kb.folder / POLICY_QA)], statements.append)
    return Space({symbol_path(k): n.number for k, n in kb_static(kb, "qa_bound", 2)}, statements)


SOLVER = ("--warn=none", "--sign-def=rnd", "--rand-freq=0.1", "--seed=1", "--heuristic=Domain", "--opt-strategy=usc",
          "--parallel-mode=1")


class Search:
    """One grounding of the space with rules to search it for: what they reach, then the smallest witnesses."""

    def __init__(self, kb: KnowledgeBase, statements: list[ast.AST], extras: list[Path], target_names,
                 options=(), max_procedures: int | None = None, witness_names=None, space: Space | None = None):
        space = space or policy_space(kb)
        bounds = dict(space.bounds)
        if max_procedures is not None:
            bounds = {k: (max_procedures if len(k) == 1 else v) for k, v in bounds.items()}
        self.bounds = bounds
        self.target_names = tuple(target_names)
        self.witness_names = set(target_names if witness_names is None else witness_names)
        # One thread and a fixed seed: clasp is then deterministic. Random signs spread the models
        # over the space, so each reaches more that is new; core-guided optimisation proves a
        # witness smallest in a few hundred conflicts where branch and bound takes thousands.
        self.ctl = clingo.Control([*SOLVER, *options])
        program = list(statements)
        for extra in [kb.root / SPACE, *extras]:
            ast.parse_files([str(extra)], program.append)
        program += space.statements
        with ast.ProgramBuilder(self.ctl) as builder:
            for stmt in read_only(program):
                builder.add(stmt)
        facts = space_facts(kb.schema, bounds) + calendar_facts(*CALENDAR) + space.facts
        with self.ctl.backend() as backend:
            for sym in facts:
                backend.add_rule([backend.add_atom(sym)])
        started = time.perf_counter()
        self.ctl.ground([("base", [])])
        self.ground_seconds = time.perf_counter() - started
        self.targets = {a.symbol: a.literal for a in self.ctl.symbolic_atoms
                        if a.symbol.type == clingo.SymbolType.Function and a.symbol.name in self.target_names}
        self.reached: set[clingo.Symbol] = set()
        self.models: dict[clingo.Symbol, list[clingo.Symbol]] = {}  # a target's first model, if it needs a witness
        self.conflicts = 0  # the solver's work so far, summed over solve calls
        self.ctl.configuration.solve.opt_mode = "ignore"  # exploring: any case will do

    def _solve(self, limit: int, **kwargs) -> clingo.SolveResult:
        self.ctl.configuration.solve.solve_limit = f"{limit},umax"
        result = self.ctl.solve(**kwargs)
        self.conflicts += int(self.ctl.statistics["solving"]["solvers"]["conflicts"])
        return result

    def explore(self, targets: list[clingo.Symbol], conflicts: int = CONFLICTS) -> bool:
        """Reach every reachable one of the targets; True when the search was exhaustive (every
        other target proved unreachable) within `conflicts`.

        One solve call enumerates cases; each model adds the clause "one of the targets not yet
        reached", so the next case reaches something new, and the enumeration ends, unsatisfiable,
        when nothing new can be reached."""
        todo = [t for t in sorted(targets) if t not in self.reached]

        def on_model(model: clingo.Model) -> bool:
            new = [t for t in todo if model.is_true(self.targets[t])]
            if any(t.name in self.witness_names for t in new):
                atoms = model.symbols(shown=True)
                self.models.update((t, atoms) for t in new if t.name in self.witness_names)
            self.reached.update(new)
            todo[:] = [t for t in todo if t not in self.reached]
            if todo:
                model.context.add_clause([self.targets[t] for t in todo])
            return bool(todo)

        if not todo:
            return True
        self.ctl.configuration.solve.models = 0
        self.ctl.configuration.solve.enum_mode = "record"  # backtracking enumeration searches far worse
        try:
            result = self._solve(conflicts, on_model=on_model)
        finally:
            self.ctl.configuration.solve.models = 1
            self.ctl.configuration.solve.enum_mode = "auto"
        return not todo or bool(result.exhausted)

    def witness(self, target: clingo.Symbol) -> tuple[dict, dict]:
        """The case of the first model that reached the target, and what kbquery must decide for it."""
        return _witness(self.models[target])

    def smallest(self, target: clingo.Symbol, conflicts: int = WITNESS_CONFLICTS) -> tuple[tuple[dict, dict], bool]:
        """A witness for the target with the fewest documented fields, and whether it is proved the
        smallest within `conflicts` (if not, the smallest found, or the first model's)."""
        atoms, minimal = self.smallest_model(target, conflicts)
        return _witness(atoms), minimal

    def smallest_model(self, target: clingo.Symbol, conflicts: int = WITNESS_CONFLICTS) -> tuple[list[clingo.Symbol], bool]:
        """The shown atoms of smallest's witness, and whether it is proved the smallest."""
        best = []
        minimise = F("qa_minimise")
        self.ctl.assign_external(minimise, True)
        self.ctl.configuration.solve.opt_mode = "opt"
        self.ctl.configuration.solve.models = 0
        try:
            result = self._solve(conflicts, assumptions=[self.targets[target]],
                                 on_model=lambda m: best.append(m.symbols(shown=True)))
        finally:
            self.ctl.assign_external(minimise, False)
            self.ctl.configuration.solve.opt_mode = "ignore"
            self.ctl.configuration.solve.models = 1
        if not best:
            return self.models[target], False
        return best[-1], bool(result.exhausted)


def _witness(atoms: list[clingo.Symbol]) -> tuple[dict, dict]:
    """The case a model generated, and what kbquery must decide for it (under each copy of the rules)."""
    def first(name):
        return next((s.arguments[0].name for s in atoms if s.match(name, 1)), None)
    claim = {"request_kind": first("kind"), "determination": first("determination"),
             "a": first("a_determination"), "b": first("b_determination")}
    return _case_from(atoms), {k: v for k, v in claim.items() if v is not None}


def kb_static(kb: KnowledgeBase, name: str, arity: int) -> list[tuple]:
    """Facts of the policy's qa.lp."""
    return [tuple(s.arguments) for s in _static_facts(kb.folder / POLICY_QA) if s.match(name, arity)]


# ---------------------------------------------------------------------------- the search, on every core

NEEDS_WITNESS = ("qa_contradiction", "qa_gap", "qa_overlap")
# How workers share the targets: the rules' own consistency (no rule left unfired but the guards,
# no contradiction), whose proofs are the hardest, apart from what the cases reach. With two
# workers each takes one group; with more, the workers of a group take its targets in turn.
SHARES = (("qa_fired", "qa_contradiction"), ("qa_outcome", "qa_status", "qa_decisive", "qa_gap", "qa_overlap"))


def share(targets, part: int, parts: int) -> list[clingo.Symbol]:
    """The targets worker `part` of `parts` searches: a fixed split, so the report is too."""
    if parts == 1:
        return sorted(targets)
    group = part % len(SHARES)
    peers = [p for p in range(parts) if p % len(SHARES) == group]
    mine = [t for t in sorted(targets) if (group == 0) == (t.name in SHARES[0])]
    return [t for i, t in enumerate(mine) if i % len(peers) == peers.index(part)]


def _representatives(symbols) -> list[clingo.Symbol]:
    """One finding per subject: overlaps of the same two sections share one witness."""
    chosen: dict[tuple, clingo.Symbol] = {}
    for sym in sorted(symbols):
        # Sorted, the first of a pair has its first section met: the other's verdict is the one that differs.
        key = (sym.name, str(sym.arguments[0]), str(sym.arguments[2])) if sym.name == "qa_overlap" else (str(sym),)
        chosen.setdefault(key, sym)
    return list(chosen.values())


def _search_part(root: str, policy: str, readings, max_procedures, part: int, parts: int,
                 conflicts: int, witness_conflicts: int) -> dict:
    """One worker: the targets of its share, each reached with a witness or shown unreachable,
    within `conflicts`."""
    kb = knowledge_base(policy, Path(root))
    statements, sites = instrumented(kb)
    analysis = Search(kb, statements, [kb.root / CHECKS], TARGETS, kb.reading_options(readings), max_procedures,
                      witness_names=NEEDS_WITNESS)
    mine = share(analysis.targets, part, parts)
    exhaustive = analysis.explore(mine, conflicts)
    wanted = _representatives(s for s in analysis.reached if s.name in NEEDS_WITNESS and s in set(mine))
    found, minimal = {}, {}
    for sym in wanted:
        found[str(sym)], minimal[str(sym)] = analysis.smallest(sym, witness_conflicts)
    return {"exhaustive": exhaustive, "reached": sorted(str(s) for s in analysis.reached),
            "witnesses": found, "minimal": minimal, "conflicts": analysis.conflicts,
            "ground_seconds": analysis.ground_seconds, "bounds": analysis.bounds,
            "sites": sites}


# ---------------------------------------------------------------------------- the report

DETERMINATIONS = ("medically_necessary", "not_medically_necessary", "more_information_needed",
                  "case_by_case_review", "not_addressed")
TIMING = ("seconds", "ground_seconds")  # the only fields of a report that depend on the machine


@dataclass
class Report:
    policy: str
    readings: dict
    max_procedures: int
    exhaustive: bool
    conflict_limit: int   # the bound each worker's search had, in solver conflicts
    conflicts: int        # the solver's work, summed over workers: deterministic, like every finding
    workers: int
    seconds: float
    ground_seconds: float
    findings: list[Finding]
    outcomes: dict[str, list[str]]  # kind -> reachable determinations

    @property
    def contradictions(self) -> list[Finding]:
        return [f for f in self.findings if f.check == "contradiction" or f.claim.get("error")]

    @property
    def incomplete(self) -> str | None:
        """Why the report is not exhaustive, or None when it is."""
        if self.exhaustive:
            return None
        return (f"NOT EXHAUSTIVE: the search stopped at its bound of {self.conflict_limit} solver conflicts; "
                "findings that need the whole space (dead rules, never-decisive criteria, statuses never "
                "reached, unreachable determinations) are not reported, and others may be missing. "
                "Raise --max-conflicts.")

    def to_dict(self) -> dict:
        head = {"exhaustive": self.exhaustive, **({"incomplete": self.incomplete} if self.incomplete else {})}
        return {**head, "policy": self.policy, "readings": self.readings, "max_procedures": self.max_procedures,
                "conflict_limit": self.conflict_limit, "conflicts": self.conflicts, "workers": self.workers,
                "seconds": round(self.seconds, 2), "ground_seconds": round(self.ground_seconds, 2),
                "reachable_determinations": self.outcomes,
                "findings": [f.__dict__ for f in self.findings]}


def to_json(data: dict) -> str:
    """Indented JSON whose first line holds the first key (`exhaustive`, and why not), so that a
    reader of the first line alone knows whether the report is complete."""
    lines = json.dumps(data, indent=2, ensure_ascii=False).split("\n")
    head = 1 + ("incomplete" in data)  # `exhaustive` and `incomplete` come first, one line each
    return "{" + " ".join(line.strip() for line in lines[1:1 + head]) + "\n" + "\n".join(lines[1 + head:])


def run(kb: KnowledgeBase, readings: dict[str, str] | None = None, max_procedures: int | None = None,
        conflicts: int = CONFLICTS, witness_conflicts: int = WITNESS_CONFLICTS, workers: int = 2) -> Report:
    """The whole analysis; each worker grounds the space and searches its share of the targets.

    The result depends on the rules, the bounds and the number of workers, never on time: the
    findings not even on the workers, only which of the smallest witnesses is shown."""
    started = time.perf_counter()
    args = [(str(kb.root), kb.id, readings, max_procedures, i, workers, conflicts, witness_conflicts)
            for i in range(workers)]
    results = run_parts(_search_part, args)
    exhaustive = all(r["exhaustive"] for r in results)
    seen = {clingo.parse_term(t) for r in results for t in r["reached"]}
    witnesses = {clingo.parse_term(t): w for r in results for t, w in r["witnesses"].items()}
    minimal = {clingo.parse_term(t): m for r in results for t, m in r["minimal"].items()}
    representatives = _representatives(witnesses)
    sites = results[0]["sites"]
    findings = _findings(kb, seen, witnesses, minimal, representatives, sites, exhaustive)
    outcomes: dict[str, list[str]] = {}
    for s in sorted(seen):
        if s.name == "qa_outcome":
            outcomes.setdefault(s.arguments[0].name, []).append(s.arguments[1].name)
    if exhaustive:
        for kind in sorted(outcomes):
            for d in DETERMINATIONS:
                if d not in outcomes[kind]:
                    findings.append(Finding("unreachable", kind, f"no case of this kind is decided {d.replace('_', ' ')}"))
    return Report(kb.id, dict(readings or {}), results[0]["bounds"].get(("prior_procedures",), 0), exhaustive,
                  conflicts, sum(r["conflicts"] for r in results), workers, time.perf_counter() - started,
                  max(r["ground_seconds"] for r in results), findings,
                  {k: sorted(v) for k, v in sorted(outcomes.items())})


def _findings(kb, seen, witnesses, minimal, representatives, sites, exhaustive) -> list[Finding]:
    findings: list[Finding] = []

    def witnessed(check, sym, subject, detail, claim=None):
        case, model_claim = witnesses[sym]
        findings.append(Finding(check, subject, detail, case, claim or model_claim, minimal=minimal[sym]))

    for sym in sorted(s for s in representatives if s.name == "qa_contradiction"):
        witnessed("contradiction", sym, str(sym.arguments[0]), "the rules give this case conflicting results",
                  {"error": "internal"})
    for sym in sorted(s for s in representatives if s.name == "qa_gap"):
        what, about = sym.arguments
        if what.name == "no_determination":
            witnessed("gap", sym, f"code {about.string}", "an in-scope request that no rule decides", {"error": "internal"})
        else:
            witnessed("gap", sym, about.name, "no section speaks to this kind of request: the policy is silent, "
                      "and only a reading of the register decides it")
    resolutions = {frozenset((a.string, b.string)): (a.string, how.name, r.name)
                   for a, b, how, r in kb_static(kb, "resolves", 4)}
    for sym in sorted(s for s in representatives if s.name == "qa_overlap"):
        s1, v1, s2, v2, _ = (a.string if a.type == clingo.SymbolType.String else a.name for a in sym.arguments)
        kinds = sorted({s.arguments[4].name.replace("_", " ") for s in seen
                        if s.name == "qa_overlap" and (s.arguments[0], s.arguments[2]) == (sym.arguments[0], sym.arguments[2])})
        first, how, reading = resolutions.get(frozenset((s1, s2)), (None, None, None))
        resolution = (f"the rules apply both (reading {reading})" if how == "both_apply" else
                      f"{first} prevails (reading {reading})" if how == "prevails" else
                      "no rule says how they combine")
        witnessed("overlap", sym, f"{s1} / {s2}",
                  f"both reach a request ({', '.join(kinds)}) with different verdicts; in the witness {s1} is "
                  f"{v1.replace('_', ' ')} and {s2} {v2.replace('_', ' ')}; {resolution}")
    if not exhaustive:
        return findings
    fired = {s.arguments[0].string for s in seen if s.name == "qa_fired"}
    for rid, site in sorted(sites.items()):
        if rid not in fired:
            kind = ("guard" if any(signal in site.text for signal in GUARDS) else
                    "other_reading" if "chosen(" in site.text else "shared" if site.shared else "dead")
            findings.append(Finding("dead_rule", rid, site.text, rule_kind=kind))
    decisive = {s.arguments[0].string for s in seen if s.name == "qa_decisive"}
    for cid in sorted(set(kb.clauses) - decisive):
        findings.append(Finding("never_decisive", cid, "no case in the space where this criterion's status "
                                "alone changes the determination"))
    statuses = {(s.arguments[0].string, s.arguments[1].name) for s in seen if s.name == "qa_status"}
    for cid in sorted({c for c, _ in statuses}):
        never = [st for st in ("met", "not_met", "unknown") if (cid, st) not in statuses]
        if never:
            findings.append(Finding("status_never_reached", cid, f"never {', '.join(never).replace('_', ' ')}"))
    return findings


def verify(report: Report, kb: KnowledgeBase) -> None:
    """Run every witness through kbquery: it must decide as its finding claims."""
    from . import InternalError, decide

    for f in report.findings:
        if f.witness is None:
            continue
        witness = {"case_id": f"qa-{f.check}-{f.subject}", **{k: v for k, v in f.witness.items() if k != "case_id"}}
        f.witness = witness
        try:
            d = decide(witness, readings=report.readings or None, kb=kb)
            f.verified = not f.claim.get("error") and (d.request_kind, d.determination) == (
                f.claim["request_kind"], f.claim["determination"])
        except InternalError:
            f.verified = bool(f.claim.get("error"))


CHECK_TITLES = [
    ("contradiction", "Contradictions", "a case the rules decide two ways"),
    ("gap", "Gaps", "an in-scope request no rule decides, or no section speaks to"),
    ("overlap", "Overlaps", "two sections reach one request with different verdicts, and how the rules resolve it"),
    ("dead_rule", "Rules that never fire", "guards that never trip are good news; rules of another reading fire only under it; shared rules (kb/common) may serve another policy or dates outside the search's grid"),
    ("never_decisive", "Criteria that never decide", "a criterion whose status alone never changes the determination"),
    ("status_never_reached", "Statuses never reached", "by the criterion"),
]


def markdown(report: Report) -> str:
    """The report for people; its first line says whether the search was exhaustive."""
    first = (f"# Policy QA: {report.policy}" if report.exhaustive else
             f"# Policy QA: {report.policy}: **{report.incomplete}**")
    lines = [first, "",
             f"Searched every case the schema admits, with up to {report.max_procedures} prior procedures, "
             f"numbers and dates cut at the rules' thresholds"
             + (f", under readings {report.readings}" if report.readings else "") + ". "
             + ("The search was exhaustive: what is not listed cannot happen in that space."
                if report.exhaustive else "**The search was not exhaustive: what is listed can happen, "
                "but what is not listed may happen too.**"),
             f"{report.conflicts} solver conflicts (bound {report.conflict_limit} per worker, {report.workers} "
             f"worker{'s' if report.workers > 1 else ''}); {report.seconds:.1f} s, grounding {report.ground_seconds:.1f} s.",
             ""]
    for check, title, meaning in CHECK_TITLES:
        found = [f for f in report.findings if f.check == check]
        lines += [f"## {title} ({len(found)})", "", f"_{meaning}_", ""]
        if not found:
            lines += ["None." if report.exhaustive or check in ("contradiction", "gap", "overlap") else "Not computed.", ""]
        for f in found:
            tag = f" [{f.rule_kind}]" if check == "dead_rule" else ""
            lines.append(f"- **{f.subject}**{tag}: {f.detail}")
            if f.witness is not None:
                claim = f.claim.get("error") and "an internal error" or \
                    f"{f.claim['request_kind'].replace('_', ' ')}, {f.claim['determination'].replace('_', ' ')}"
                check_mark = {True: "verified", False: "**NOT as claimed**", None: "not run"}[f.verified]
                size = "smallest" if f.minimal else "not proved smallest"
                lines += [f"  - witness ({size}), decided {claim} ({check_mark} by kbquery):", "",
                          "    ```json", "    " + json.dumps(f.witness, sort_keys=True), "    ```", ""]
        lines.append("")
    lines += ["## Determinations reachable per kind of request", "",
              "| kind | " + " | ".join(d.replace("_", " ") for d in DETERMINATIONS) + " |",
              "|---|" + "---|" * len(DETERMINATIONS)]
    for kind, reached in report.outcomes.items():
        lines.append(f"| {kind.replace('_', ' ')} | " + " | ".join("yes" if d in reached else "-" for d in DETERMINATIONS) + " |")
    return "\n".join(lines) + "\n"
