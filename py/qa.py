"""Policy QA over the whole input space: contradictions, gaps, overlaps, dead rules, never-decisive
criteria and unreachable determinations, each finding with a witness case.

The search space is generated in ASP (kb/common/qa_space.lp) from the case schema, lists unrolled
to the policy's bounds and numbers and dates cut at its thresholds (kb/<policy>/qa.lp); the
policy's rules are reused unchanged, each rule with a body given a twin `qa_fired(Id) :- Body.`
so that a rule no case can fire shows. One grounding; then repeated solving, each time asking
for a case that reaches something not reached yet, until no case can.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import clingo
from clingo import ast

from .facts import case_symbols
from .knowledge import KnowledgeBase, kb_root
from .solve import Answer, ground
from .symbols import day_number, is_name, json_value, path_symbol, path_text, scalar_symbol, symbol_path

SPACE = "common/qa_space.lp"
CHECKS = "common/qa_checks.lp"
POLICY_QA = "qa.lp"
TARGETS = ("qa_outcome", "qa_status", "qa_contradiction", "qa_decisive", "qa_gap", "qa_overlap", "qa_fired")
CASE_ATOMS = ("value", "present", "length")
F, N = clingo.Function, clingo.Number


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


def instrumented(kb: KnowledgeBase) -> tuple[list[ast.AST], dict[str, RuleSite]]:
    """The policy's statements, and for each rule with a body a twin `qa_fired(Id) :- Body.`"""
    statements: list[ast.AST] = []
    sites: dict[str, RuleSite] = {}
    policy_files = {p for p in kb.rule_files if p.parent == kb.folder.resolve()}
    for path in kb.rule_files:
        lines = path.read_text(encoding="utf-8").splitlines()

        def add(stmt, path=path, lines=lines):
            statements.append(stmt)
            if path in policy_files and stmt.ast_type == ast.ASTType.Rule and stmt.body:
                loc = stmt.location
                rid = f"{path.name}:{loc.begin.line}"
                sites[rid] = RuleSite(rid, " ".join(l.strip() for l in lines[loc.begin.line - 1: loc.end.line]))
                head = ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(
                    ast.Function(loc, "qa_fired", [ast.SymbolicTerm(loc, clingo.String(rid))], False)))
                statements.append(ast.Rule(loc, head, stmt.body))

        ast.parse_files([str(path)], add)
    return statements, sites


# ---------------------------------------------------------------------------- findings

@dataclass
class Finding:
    check: str          # contradiction, gap, overlap, dead_rule, never_decisive, unreachable
    subject: str
    detail: str
    witness: dict | None = None
    claim: dict = field(default_factory=dict)  # what kbquery must decide for the witness


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


class Analysis:
    """One grounding of the space, solved repeatedly for new findings."""

    def __init__(self, kb: KnowledgeBase, readings: dict[str, str] | None = None, max_procedures: int | None = None):
        self.kb = kb
        self.readings = readings
        policy_qa = kb.folder / POLICY_QA
        statics = _static_facts(policy_qa)
        bounds = {symbol_path(s.arguments[0]): s.arguments[1].number for s in statics if s.match("qa_bound", 2)}
        if max_procedures is not None:
            bounds = {k: (max_procedures if len(k) == 1 else v) for k, v in bounds.items()}
        self.bounds = bounds
        statements, self.sites = instrumented(kb)
        # Random signs spread the models over the space, so each reaches more that is new.
        self.ctl = clingo.Control(["--warn=none", "--sign-def=rnd", "--rand-freq=0.1", "--seed=1",
                                   *kb.reading_options(readings)])
        with ast.ProgramBuilder(self.ctl) as builder:
            for stmt in statements:
                builder.add(stmt)
            for extra in (kb_root() / SPACE, kb_root() / CHECKS, policy_qa):
                ast.parse_files([str(extra)], builder.add)
        facts = space_facts(kb.schema, bounds) + calendar_facts(dt.date(2024, 1, 1), dt.date(2027, 12, 31))
        with self.ctl.backend() as backend:
            for sym in facts:
                backend.add_rule([backend.add_atom(sym)])
        started = time.perf_counter()
        self.ctl.ground([("base", [])])
        self.ground_seconds = time.perf_counter() - started
        self.targets = {a.symbol: a.literal for a in self.ctl.symbolic_atoms
                        if a.symbol.type == clingo.SymbolType.Function and a.symbol.name in TARGETS}
        self.witnesses: dict[clingo.Symbol, tuple[dict, dict]] = {}
        self.solves = 0

    def explore(self, deadline: float) -> bool:
        """Find a witness for every reachable target; True when the search was exhaustive."""
        goal_id = 0
        while time.perf_counter() < deadline:
            unseen = [lit for sym, lit in self.targets.items() if sym not in self.witnesses]
            if not unseen:
                return True
            goal_id += 1
            with self.ctl.backend() as backend:
                goal = backend.add_atom(F("qa_goal", [N(goal_id)]))
                for lit in unseen:
                    backend.add_rule([goal], [lit])
            self.solves += 1
            with self.ctl.solve(assumptions=[goal], on_model=self._record, async_=True) as handle:
                if not handle.wait(max(0.0, deadline - time.perf_counter())):
                    handle.cancel()
                    return False
                if handle.get().unsatisfiable:
                    return True
        return False

    def _record(self, model: clingo.Model) -> None:
        atoms = model.symbols(shown=True)
        new = [s for s in atoms if s.name in TARGETS and s not in self.witnesses]
        if new:
            case = _case_from(atoms)
            claim = {"request_kind": next((s.arguments[0].name for s in atoms if s.match("kind", 1)), None),
                     "determination": next((s.arguments[0].name for s in atoms if s.match("determination", 1)), None)}
            for sym in new:
                self.witnesses[sym] = (case, claim)


def evaluate(kb: KnowledgeBase, case: dict, readings: dict[str, str] | None = None) -> set[clingo.Symbol]:
    """The QA atoms that hold for one concrete case."""
    ctl = ground(kb, case_symbols(case, kb.schema), readings, extra=[kb_root() / CHECKS, kb.folder / POLICY_QA])
    shown: set[clingo.Symbol] = set()
    ctl.solve(on_model=lambda m: shown.update(m.symbols(shown=True)))
    return shown


def minimise(kb: KnowledgeBase, case: dict, target: clingo.Symbol, readings=None) -> dict:
    """Drop optional fields, largest first, while the finding still holds."""
    required = _required_paths(kb.schema)

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for k, v in node.items():
                yield prefix + (k,)
                yield from paths(v, prefix + (k,))

    # One pass, shortest paths first: a whole object goes before its fields are tried one by one.
    for path in sorted(paths(case), key=len):
        if _pattern(path) in required or any(isinstance(p, int) for p in path):
            continue
        smaller = _without(case, path)
        if smaller is not None and target in evaluate(kb, smaller, readings):
            case = smaller
    return case


def _without(case: dict, path: tuple) -> dict | None:
    import copy
    smaller = copy.deepcopy(case)
    node = smaller
    for key in path[:-1]:
        if key not in node:
            return None  # already removed with its parent
        node = node[key]
    if path[-1] not in node:
        return None
    del node[path[-1]]
    return smaller


def _required_paths(schema: dict, prefix=()) -> set[tuple]:
    found = set()
    for key, sub in schema.get("properties", {}).items():
        if key in schema.get("required", []):
            found.add(prefix + (key,))
        found |= _required_paths(sub, prefix + (key,))
    if "items" in schema:
        found |= _required_paths(schema["items"], prefix + ("any",))
    return found


# ---------------------------------------------------------------------------- the report

DETERMINATIONS = ("medically_necessary", "not_medically_necessary", "more_information_needed",
                  "case_by_case_review", "not_addressed")


@dataclass
class Report:
    policy: str
    readings: dict
    max_procedures: int
    exhaustive: bool
    seconds: float
    ground_seconds: float
    solves: int
    findings: list[Finding]
    outcomes: dict[str, list[str]]  # kind -> reachable determinations

    @property
    def contradictions(self) -> list[Finding]:
        return [f for f in self.findings if f.check == "contradiction" or (f.check == "gap" and f.claim.get("error"))]

    def to_dict(self) -> dict:
        return {"policy": self.policy, "readings": self.readings, "max_procedures": self.max_procedures,
                "exhaustive": self.exhaustive, "seconds": round(self.seconds, 2),
                "ground_seconds": round(self.ground_seconds, 2), "solves": self.solves,
                "reachable_determinations": self.outcomes,
                "findings": [f.__dict__ for f in self.findings]}


def run(kb: KnowledgeBase, readings: dict[str, str] | None = None, max_procedures: int | None = None,
        budget: float = 25.0, minimal: bool = True) -> Report:
    started = time.perf_counter()
    analysis = Analysis(kb, readings, max_procedures)
    exhaustive = analysis.explore(started + budget)
    seen = analysis.witnesses
    findings: list[Finding] = []

    def witnessed(check, sym, subject, detail, claim=None):
        case, model_claim = seen[sym]
        if minimal:
            case = minimise(kb, case, sym, readings)
        findings.append(Finding(check, subject, detail, case, claim or model_claim))

    for sym in sorted(s for s in seen if s.name == "qa_contradiction"):
        witnessed("contradiction", sym, str(sym.arguments[0]), "the rules give this case conflicting results",
                  {"error": "internal"})
    for sym in sorted(s for s in seen if s.name == "qa_gap"):
        what, about = sym.arguments
        if what.name == "no_determination":
            witnessed("gap", sym, f"code {about.string}", "an in-scope request that no rule decides", {"error": "internal"})
        else:
            witnessed("gap", sym, about.name, "no section addresses this kind of request: the policy is silent; "
                      "only a reading decides it")
    resolutions = {frozenset((a.string, b.string)): (a.string, how.name, r.name)
                   for a, b, how, r in kb_static(kb, "resolves", 4)}
    overlaps: dict[tuple, list] = {}
    for sym in sorted(s for s in seen if s.name == "qa_overlap"):
        s1, s2, kind = sym.arguments
        overlaps.setdefault((s1.string, s2.string), []).append((kind.name, sym))
    for (s1, s2), found in sorted(overlaps.items()):
        kinds = ", ".join(k.replace("_", " ") for k, _ in found)
        first, how, reading = resolutions.get(frozenset((s1, s2)), (None, None, None))
        if how == "both_apply":
            resolution = f"the rules apply both (reading {reading})"
        elif how == "prevails":
            resolution = f"{first} prevails (reading {reading})"
        else:
            resolution = "no rule says how they combine"
        witnessed("overlap", found[0][1], f"{s1} / {s2}",
                  f"both reach a request ({kinds}) and their verdicts differ; {resolution}")
    if exhaustive:
        fired = {s.arguments[0].string for s in seen if s.name == "qa_fired"}
        for rid, site in sorted(analysis.sites.items()):
            if rid not in fired:
                findings.append(Finding("dead_rule", rid, site.text))
        decisive = {s.arguments[0].string for s in seen if s.name == "qa_decisive"}
        for cid in sorted(set(kb.clauses) - decisive):
            findings.append(Finding("never_decisive", cid, "no case in the space where this criterion's status "
                                    "alone changes the determination"))
        statuses = {(s.arguments[0].string, s.arguments[1].name) for s in seen if s.name == "qa_status"}
        evaluated = {c for c, _ in statuses}
        for cid in sorted(evaluated):
            never = [st for st in ("met", "not_met", "unknown") if (cid, st) not in statuses]
            if never:
                findings.append(Finding("status_never_reached", cid, f"never {', '.join(never)}"))
    outcomes: dict[str, list[str]] = {}
    for s in seen:
        if s.name == "qa_outcome":
            outcomes.setdefault(s.arguments[0].name, []).append(s.arguments[1].name)
    if exhaustive:
        for kind in sorted(outcomes):
            missing = [d for d in DETERMINATIONS if d not in outcomes[kind]]
            for d in missing:
                findings.append(Finding("unreachable", kind, f"no case of this kind is decided {d.replace('_', ' ')}"))
    return Report(kb.id, dict(readings or {}), analysis.bounds.get(("prior_procedures",), 0), exhaustive,
                  time.perf_counter() - started, analysis.ground_seconds, analysis.solves, findings,
                  {k: sorted(v) for k, v in sorted(outcomes.items())})


def kb_static(kb: KnowledgeBase, name: str, arity: int) -> list[tuple]:
    return [tuple(s.arguments) for s in _static_facts(kb.folder / POLICY_QA) if s.match(name, arity)]
