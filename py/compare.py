"""Comparing two policies: every kind of request they decide differently, each with a witness case
decided under both, and the criteria that make the difference.

Both policies' rules, renamed apart (every predicate policy A's rules define prefixed a_, policy
B's b_, each side's reading constants replaced by its choices), decide the same case generated
from one search space: the schema's, with the values each policy's qa.lp tries for a field put
together, the larger of their list bounds, and only the fields both leave out left out.
kb/common/qa_compare.lp names where they disagree. As in QA and reading diffs, the search is
bounded in solver conflicts, never in seconds, so the report depends on the rules alone.

The audit table classifies each kind of request from A's side, as a utilisation-management audit
does when A is a plan's internal policy and B the coverage policy it must not be stricter than.
What counts as B allowing flexibility, and which of B's readings are uncertain, is data in B's
interpretations register (flexibility/1 and verify/1), never Python.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import clingo
from clingo import ast

from .diff import DROPPED, _Copy
from .facts import INPUTS
from .knowledge import KnowledgeBase, knowledge_base
from .program import head_names
from .qa import (CALENDAR, CONFLICTS, POLICY_QA, WITNESS_CONFLICTS, Search, Space, _case_from, calendar_facts,
                 names, to_json)
from .symbols import symbol_path
from .workers import run_parts

COMPARE = "common/qa_compare.lp"
TARGETS = ("qa_pair", "qa_compare", "qa_why")
SIDES = ("a", "b")
APPROVE, DENY, PEND = "medically_necessary", "not_medically_necessary", "more_information_needed"
NOT_ADDRESSED, CASE_BY_CASE = "not_addressed", "case_by_case_review"

# The directions a difference can take (kb/common/qa_compare.lp defines them), in the report's order.
DIRECTIONS = ("a_denies_b_approves", "a_approves_b_denies", "a_pends_b_decides", "b_pends_a_decides", "other")
# The audit's classes, in the order a request kind is labelled by them.
CLASSES = ("stricter", "silent", "flexibility", "fully_established")


# ---------------------------------------------------------------------------- the two sides' rules

def side_program(kb: KnowledgeBase, prefix: str, readings: dict[str, str]) -> list[ast.AST]:
    """A policy's rules with every predicate they define renamed with the prefix, and its readings
    put in place of the reading constants; the case's own facts (INPUTS) are left shared."""
    statements: list[ast.AST] = []
    ast.parse_files([str(p) for p in kb.rule_files],
                    lambda s: statements.append(s) if s.ast_type not in DROPPED | {ast.ASTType.Comment} else None)
    defined = set().union(*(head_names(s) for s in statements if s.ast_type == ast.ASTType.Rule)) - INPUTS
    choices = {rid: r.default for rid, r in kb.readings.items()} | readings
    copy = _Copy(prefix, defined, {f"reading_{rid}": c for rid, c in choices.items()})
    return [copy(s) for s in statements]


# ---------------------------------------------------------------------------- one space for both

def _qa_facts(kb: KnowledgeBase) -> list[clingo.Symbol]:
    """The facts of a policy's qa.lp, grounded over the search's days (its dates are built on them)."""
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(kb.folder / POLICY_QA))
    with ctl.backend() as backend:
        for sym in calendar_facts(*CALENDAR):
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return [a.symbol for a in ctl.symbolic_atoms if a.is_fact]


def _space_constraints(kb: KnowledgeBase) -> dict[str, ast.AST]:
    """The constraints of a policy's qa.lp on the generated case alone (a symmetry it allows)."""
    found: dict[str, ast.AST] = {}

    def add(stmt):
        if stmt.ast_type == ast.ASTType.Rule and not head_names(stmt) and names(stmt) <= INPUTS:
            found[str(stmt)] = stmt

    ast.parse_files([str(kb.folder / POLICY_QA)], add)
    return found


def shared_space(kbs: list[KnowledgeBase]) -> Space:
    """One space for every policy: each field takes every value some policy's qa.lp tries for it;
    a list is as long as the longest bound any sets; a field is left out only when every policy
    leaves it out; a constraint on the case stays only when every policy states it."""
    if any(kb.schema != kbs[0].schema for kb in kbs):
        raise ValueError("the policies read different case schemas: there is no shared input space")
    per = [_qa_facts(kb) for kb in kbs]
    values = sorted({s for facts in per for s in facts if s.match("qa_value", 2)})
    skips = sorted(set.intersection(*({s for s in facts if s.match("qa_skip", 1)} for facts in per)))
    bounds: dict[tuple, int] = {}
    for facts in per:
        for s in facts:
            if s.match("qa_bound", 2):
                key = symbol_path(s.arguments[0])
                bounds[key] = max(bounds.get(key, 0), s.arguments[1].number)
    constraints = [_space_constraints(kb) for kb in kbs]
    common = [stmt for text, stmt in constraints[0].items() if all(text in c for c in constraints[1:])]
    return Space(bounds, common, values + skips)


def code_families(kbs: list[KnowledgeBase], codes: list[str]) -> dict[str, str]:
    """Request codes grouped by how the policies' rules name them: two codes are one family when
    every policy states the same facts of both (each lists them in the same code lists, say). A
    family is named by its codes."""
    def signature(code: str) -> tuple:
        target = clingo.String(code)
        placeholder = clingo.Function("code")

        def swap(sym):
            if sym == target:
                return placeholder
            if sym.type == clingo.SymbolType.Function and sym.arguments:
                return clingo.Function(sym.name, [swap(a) for a in sym.arguments], sym.positive)
            return sym

        def mentions(sym):
            return sym == target or (sym.type == clingo.SymbolType.Function and any(mentions(a) for a in sym.arguments))

        return tuple(tuple(sorted(str(swap(s)) for s in kb.static_atoms if mentions(s))) for kb in kbs)

    groups: dict[tuple, list[str]] = {}
    for code in sorted(codes):
        groups.setdefault(signature(code), []).append(code)
    return {code: "/".join(members) for members in groups.values() for code in members}


# ---------------------------------------------------------------------------- the search

def _claim(atoms: list[clingo.Symbol]) -> dict:
    def first(name):
        return next((s.arguments[0].name for s in atoms if s.match(name, 1)), None)
    family = next((s.arguments[0].string for s in atoms if s.match("qa_family", 1)), None)
    return {"family": family, "a": {"request_kind": first("a_kind"), "determination": first("a_determination")},
            "b": {"request_kind": first("b_kind"), "determination": first("b_determination")}}


def _share(targets, part: int, parts: int) -> list[clingo.Symbol]:
    """The targets worker `part` of `parts` searches: every parts-th of them in sorted order, a
    fixed split, so the report is the same."""
    return [t for i, t in enumerate(sorted(targets)) if i % parts == part]


def _search_part(root: str, a: str, b: str, readings_a, readings_b, max_procedures, part: int, parts: int,
                 conflicts: int, witness_conflicts: int) -> dict:
    kb_a, kb_b = knowledge_base(a, Path(root)), knowledge_base(b, Path(root))
    search = _search(kb_a, kb_b, readings_a, readings_b, max_procedures)
    mine = _share(search.targets, part, parts)
    exhaustive = search.explore(mine, conflicts)
    reached = {s for s in search.reached if s in set(mine)}
    # Witnesses: the smallest of every difference; a criterion that makes a difference takes the
    # smallest witness of a difference in which it does, or else one of its own.
    witnesses = {}
    for sym in sorted(s for s in reached if s.name == "qa_compare"):
        atoms, minimal = search.smallest_model(sym, witness_conflicts)
        witnesses[str(sym)] = {"case": _case_from(atoms), "claim": _claim(atoms), "minimal": minimal,
                               "covers": sorted(str(a) for a in atoms if a.name == "qa_why")}
    covered = {c for w in witnesses.values() for c in w["covers"]}
    for sym in sorted(s for s in reached if s.name == "qa_why" and str(s) not in covered):
        atoms, minimal = search.smallest_model(sym, witness_conflicts)
        witnesses[str(sym)] = {"case": _case_from(atoms), "claim": _claim(atoms), "minimal": minimal, "covers": []}
    return {"exhaustive": exhaustive, "reached": sorted(str(s) for s in search.reached),
            "witnesses": witnesses, "conflicts": search.conflicts, "ground_seconds": search.ground_seconds,
            "bounds": {json.dumps(k): v for k, v in search.bounds.items()}}


def _search(kb_a, kb_b, readings_a, readings_b, max_procedures) -> Search:
    space = shared_space([kb_a, kb_b])
    codes = sorted({s.arguments[1].string for s in space.facts
                    if s.match("qa_value", 2) and symbol_path(s.arguments[0]) == ("request", "code")})
    families = code_families([kb_a, kb_b], codes)
    space.facts += [clingo.Function("qa_code_family", [clingo.String(c), clingo.String(f)]) for c, f in families.items()]
    statements = side_program(kb_a, "a_", readings_a) + side_program(kb_b, "b_", readings_b)
    return Search(kb_a, statements, [kb_a.root / COMPARE], TARGETS, (), max_procedures,
                  witness_names=("qa_compare", "qa_why"), space=space)



# ---------------------------------------------------------------------------- the report

@dataclass
class Witness:
    """A case the two policies decide differently, as claimed by the search and as kbquery decides it."""
    case: dict
    claim: dict                  # {"a": {"request_kind", "determination"}, "b": {...}} from the search
    minimal: bool                # proved to have the fewest documented fields
    criterion: dict | None = None  # {"direction", "side", "id"}: the criterion it shows making the difference
    smallest_of: str = "difference"  # what it is the smallest witness of: its difference, or its criterion
    verified: bool | None = None   # kbquery decided it as claimed under each policy
    decided: dict = field(default_factory=dict)  # per side: unmet, missing, readings applied
    verify_readings: dict = field(default_factory=dict)  # per side: the uncertain (verify/1) readings applied
    rests_on: list = field(default_factory=list)  # uncertain readings whose alternative changes a side's determination
    flexibility: list = field(default_factory=list)  # readings marked flexibility/1 that B's determination applied



@dataclass
class Difference:
    """One kind of request (its code family and the kind under each policy) decided differently."""
    direction: str
    family: str
    kind_a: str
    kind_b: str
    determination_a: str
    determination_b: str
    witness: Witness | None = None  # the smallest witness of this difference

    @property
    def key(self) -> tuple:
        return (self.family, self.kind_a, self.kind_b, self.determination_a, self.determination_b)


@dataclass
class Comparison:
    a: str
    b: str
    readings: dict           # {"a": {...}, "b": {...}}
    exhaustive: bool
    conflict_limit: int
    conflicts: int
    workers: int
    seconds: float
    ground_seconds: float
    bounds: dict
    restatement: dict        # per side, the policy's own notice that it rests on a restatement, if any
    pairs: list              # [family, kind_a, kind_b] reachable
    differences: list[Difference]
    criteria: list[Witness]  # per direction, each criterion that makes a difference, with its witness
    audit: list = field(default_factory=list)

    @property
    def incomplete(self) -> str | None:
        if self.exhaustive:
            return None
        return (f"NOT EXHAUSTIVE: the search stopped at its bound of {self.conflict_limit} solver conflicts; "
                "other differences may exist, and the audit table may call a kind of request no stricter "
                "when it is. Raise --max-conflicts.")

    @property
    def witnesses(self) -> list[Witness]:
        return [d.witness for d in self.differences if d.witness] + self.criteria

    def to_dict(self) -> dict:
        head = {"exhaustive": self.exhaustive, **({"incomplete": self.incomplete} if self.incomplete else {})}

        def witness(w: Witness | None):
            if w is None:
                return None
            return {k: v for k, v in w.__dict__.items()}

        return {**head, "a": self.a, "b": self.b, "readings": self.readings,
                "conflict_limit": self.conflict_limit, "conflicts": self.conflicts, "workers": self.workers,
                "seconds": round(self.seconds, 2), "ground_seconds": round(self.ground_seconds, 2),
                "bounds": self.bounds, "restatement": self.restatement, "audit": self.audit,
                "pairs": self.pairs,
                "differences": [{**{k: v for k, v in d.__dict__.items() if k != "witness"},
                                 "witness": witness(d.witness)} for d in self.differences],
                "criteria": [witness(w) for w in self.criteria]}


def _size(case) -> int:
    """The documented fields of a case, as the search counts them."""
    if isinstance(case, dict):
        return sum(1 + _size(v) for v in case.values())
    if isinstance(case, list):
        return sum(1 + _size(v) for v in case)
    return 0


def directions(root: Path) -> dict[tuple[str, str], str]:
    """(determination under A, under B) -> direction, as kb/common/qa_compare.lp defines them."""
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(root / COMPARE))
    ctl.ground([("base", [])])
    found: list[clingo.Symbol] = []
    ctl.solve(on_model=lambda m: found.extend(m.symbols(atoms=True)))
    return {(s.arguments[0].name, s.arguments[1].name): s.arguments[2].name for s in found if s.match("qa_direction", 3)}


def run(kb_a: KnowledgeBase, kb_b: KnowledgeBase, readings_a: dict | None = None, readings_b: dict | None = None,
        max_procedures: int | None = None, conflicts: int = CONFLICTS, witness_conflicts: int = WITNESS_CONFLICTS,
        workers: int = 2) -> Comparison:
    """The whole comparison; each worker grounds both policies over the space and searches its share."""
    readings_a, readings_b = dict(readings_a or {}), dict(readings_b or {})
    kb_a.reading_options(readings_a), kb_b.reading_options(readings_b)  # each choice checked against its register
    if kb_a.root != kb_b.root:
        raise ValueError("both policies must come from one kb/ root")
    started = time.perf_counter()
    args = [(str(kb_a.root), kb_a.id, kb_b.id, readings_a, readings_b, max_procedures, i, workers, conflicts,
             witness_conflicts) for i in range(workers)]
    results = run_parts(_search_part, args)
    exhaustive = all(r["exhaustive"] for r in results)
    reached = sorted({clingo.parse_term(t) for r in results for t in r["reached"]})
    found = {clingo.parse_term(t): w for r in results for t, w in r["witnesses"].items()}
    way = directions(kb_a.root)

    criteria = []
    for sym in sorted(s for s in reached if s.name == "qa_why"):
        covering = [w for t, w in sorted(found.items()) if t.name == "qa_compare" and str(sym) in w["covers"]]
        w = min(covering, key=lambda w: _size(w["case"]), default=found.get(sym))
        if w is None:
            continue
        criteria.append(Witness(w["case"], w["claim"], w["minimal"],
                                {"direction": sym.arguments[0].name, "side": sym.arguments[1].name,
                                 "id": sym.arguments[2].string}, smallest_of="difference" if covering else "criterion"))
    differences = []
    for sym in (s for s in reached if s.name == "qa_compare"):
        family, ka, kb, da, db = (a.string if a.type == clingo.SymbolType.String else a.name for a in sym.arguments)
        d = Difference(way[(da, db)], family, ka, kb, da, db)
        if sym in found:
            w = found[sym]
            d.witness = Witness(w["case"], w["claim"], w["minimal"])
        differences.append(d)
    differences.sort(key=lambda d: (DIRECTIONS.index(d.direction), d.key))
    pairs = [[(a.string if a.type == clingo.SymbolType.String else a.name) for a in s.arguments]
             for s in reached if s.name == "qa_pair"]
    bounds = {".".join(str(p) for p in json.loads(k)): v for k, v in sorted(results[0]["bounds"].items())}
    return Comparison(kb_a.id, kb_b.id, {"a": readings_a, "b": readings_b}, exhaustive, conflicts,
                      sum(r["conflicts"] for r in results), workers, time.perf_counter() - started,
                      max(r["ground_seconds"] for r in results), bounds,
                      {s: kb.restatement for s, kb in zip(SIDES, (kb_a, kb_b)) if kb.restatement},
                      pairs, differences, criteria)



# ---------------------------------------------------------------------------- checked by kbquery

def _markers(kb: KnowledgeBase, name: str) -> set[str]:
    """Reading ids the register marks with name/1 (verify/1: uncertain; flexibility/1: the policy
    leaves the matter open)."""
    return {r.name if r.type == clingo.SymbolType.Function else r.string for (r,) in kb.static(name, 1)}


def verify(comparison: Comparison, kb_a: KnowledgeBase, kb_b: KnowledgeBase) -> None:
    """Decide every witness again with kbquery under each policy: it must come out as claimed (and,
    for a criterion's witness, with that criterion unmet or open on its side). Then, for each
    uncertain reading (verify/1) a side applied, decide it under each alternative: a witness whose
    determination changes there rests on that reading."""
    from . import decide_many

    kbs = {"a": kb_a, "b": kb_b}
    witnesses = comparison.witnesses
    for i, w in enumerate(witnesses):
        w.case = {"case_id": f"compare-{i:03d}", **{k: v for k, v in w.case.items() if k not in ("case_id", "policy")}}
    decided = {s: decide_many([w.case for w in witnesses], readings=comparison.readings[s] or None, kb=kbs[s])
               for s in SIDES}
    alternatives: dict[tuple, list[int]] = {}
    for i, w in enumerate(witnesses):
        ok = True
        for s in SIDES:
            d = decided[s][i]
            if isinstance(d, Exception):
                ok = False
                w.decided[s] = {"error": str(d)}
                continue
            applied = [r["id"] for r in d.interpretation]
            w.decided[s] = {"request_kind": d.request_kind, "determination": d.determination, "unmet": d.unmet,
                            "missing": d.missing, "readings": applied}
            ok &= (d.request_kind, d.determination) == (w.claim[s]["request_kind"], w.claim[s]["determination"])
            uncertain = sorted(set(applied) & _markers(kbs[s], "verify"))
            if uncertain:
                w.verify_readings[s] = uncertain
            for rid in uncertain:
                reading = kbs[s].readings[rid]
                current = comparison.readings[s].get(rid, reading.default)
                for choice in reading.options:
                    if choice != current:
                        alternatives.setdefault((s, rid, choice), []).append(i)
        c = w.criterion
        if ok and c:
            d = decided[c["side"]][i]
            ok = c["id"] in d.unmet or any(x.id == c["id"] and x.status == "unknown" for x in d.criteria)
        w.flexibility = sorted(set(w.decided.get("b", {}).get("readings", [])) & _markers(kb_b, "flexibility"))
        w.verified = ok
    for (s, rid, choice), members in sorted(alternatives.items()):
        switched = {**comparison.readings[s], rid: choice}
        again = decide_many([witnesses[i].case for i in members], readings=switched, kb=kbs[s])
        for i, d in zip(members, again):
            w = witnesses[i]
            if isinstance(d, Exception) or d.determination != w.claim[s]["determination"]:
                w.rests_on.append({"side": s, "reading": rid, "choice": choice,
                                   "determination": "error" if isinstance(d, Exception) else d.determination})
    comparison.audit = audit(comparison)


# ---------------------------------------------------------------------------- the audit table

def _stricter(w: Witness) -> bool:
    """A denies or pends what B approves."""
    return w.claim["a"]["determination"] in (DENY, PEND) and w.claim["b"]["determination"] == APPROVE


def classify(w: Witness) -> str | None:
    """The audit class one witness gives its kind of request under A, or None when A is not stricter."""
    da, db = w.claim["a"]["determination"], w.claim["b"]["determination"]
    if db == NOT_ADDRESSED and da != NOT_ADDRESSED:
        return "silent"
    if _stricter(w):
        return "flexibility" if w.flexibility else "stricter"
    if db == CASE_BY_CASE and da in (DENY, PEND):
        return "flexibility"
    return None


def audit(comparison: Comparison) -> list[dict]:
    """One row per kind of request under A (and its code family): the audit's classes, from every
    witness of that kind; "fully_established" when none makes A stricter, B silent or B flexible."""
    rows: dict[tuple, dict] = {}
    for family, ka, kb in comparison.pairs:
        row = rows.setdefault((family, ka), {"family": family, "kind_a": ka, "kinds_b": [], "classes": [],
                                             "counts": {"stricter": 0, "looser": 0, "other": 0}, "rests_on": [],
                                             "documentation": []})
        row["kinds_b"].append(kb)
    for d in comparison.differences:
        row = rows[(d.family, d.kind_a)]
        da, db = d.determination_a, d.determination_b
        side = ("stricter" if da in (DENY, PEND) and db == APPROVE else
                "looser" if da == APPROVE and db in (DENY, PEND) else "other")
        row["counts"][side] += 1
    for w in comparison.witnesses:
        row = rows.get((w.claim["family"], w.claim["a"]["request_kind"]))
        if row is None:
            continue
        found = classify(w)
        if found and found not in row["classes"]:
            row["classes"].append(found)
        if found:
            for r in w.rests_on:  # the alternative decides otherwise, or only asks for more documentation
                where = "documentation" if r["determination"] == PEND else "rests_on"
                if r["side"] == "b" and r["reading"] not in row[where]:
                    row[where].append(r["reading"])
    for row in rows.values():
        row["classes"] = [c for c in CLASSES if c in row["classes"]] or ["fully_established"]
        row["kinds_b"] = sorted(set(row["kinds_b"]))
        row["rests_on"] = sorted(row["rests_on"])
        row["documentation"] = sorted(set(row["documentation"]) - set(row["rests_on"]))
    return [rows[k] for k in sorted(rows)]


# ---------------------------------------------------------------------------- Markdown

def _words(name: str) -> str:
    return name.replace("_", " ")


def class_title(cls: str, b: str) -> str:
    return {"stricter": f"stricter than {b}", "silent": f"{b} is silent (internal criteria)",
            "flexibility": f"{b} explicitly allows flexibility",
            "fully_established": f"fully established by {b} and no stricter"}[cls]


def direction_title(direction: str, a: str, b: str) -> str:
    return {"a_denies_b_approves": f"{a} denies what {b} approves",
            "a_approves_b_denies": f"{a} approves what {b} denies",
            "a_pends_b_decides": f"{a} pends (more information needed) where {b} decides",
            "b_pends_a_decides": f"{b} pends (more information needed) where {a} decides",
            "other": "other differences"}[direction]


def audit_table(comparison: Comparison) -> list[str]:
    a, b = comparison.a, comparison.b
    lines = [f"| request (codes) | kind under {a} | kinds under {b} | audit | {a} stricter (denies or pends what {b} approves) "
             f"| {a} looser (approves what {b} denies or pends) | other differences "
             f"| stricter findings resting on a VERIFY reading of {b} |", "|---|---|---|---|---|---|---|---|"]
    for row in comparison.audit:
        n = row["counts"]
        stricter, looser = n["stricter"], n["looser"]
        lines.append(f"| {row['family']} | {_words(row['kind_a'])} | {', '.join(map(_words, row['kinds_b']))} | "
                     f"{'; '.join(class_title(c, b) for c in row['classes'])} | {stricter or '-'} | {looser or '-'} | "
                     f"{n['other'] or '-'} | {_resting(row)} |")
    return lines


def _resting(row: dict) -> str:
    said = ", ".join(row["rests_on"])
    if row["documentation"]:
        said += ("; " if said else "") + f"documentation only: {', '.join(row['documentation'])}"
    return said or "-"


def _verify_note(w: Witness, names: dict) -> str:
    notes = []
    for s in SIDES:
        uncertain = w.verify_readings.get(s)
        if not uncertain:
            continue
        rests = [r for r in w.rests_on if r["side"] == s]
        if rests:
            notes.append(f"**rests on VERIFY reading{'s' if len(rests) > 1 else ''} of {names[s]}**: " + "; ".join(
                f"under {r['reading']}={r['choice']} {names[s]} decides {_words(r['determination'])}" for r in rests))
        else:
            notes.append(f"{names[s]} applies VERIFY readings {', '.join(uncertain)}, and no alternative of them "
                         "changes its determination")
    if w.flexibility:
        notes.append(f"{names['b']}'s determination applies {', '.join(w.flexibility)}, marked as flexibility")
    return "; ".join(notes)


def _witness_lines(w: Witness, names: dict) -> list[str]:
    mark = {True: "verified", False: "**NOT as claimed**", None: "not run"}[w.verified]
    size = (("smallest" if w.smallest_of == "criterion" or not w.criterion else "the smallest of its kind of request")
            if w.minimal else "not proved smallest")
    said = []
    for s in SIDES:
        d = w.decided.get(s, {})
        parts = [_words(w.claim[s]["determination"])]
        if d.get("unmet"):
            parts.append("unmet " + ", ".join(d["unmet"]))
        if d.get("missing"):
            parts.append("open " + ", ".join(d["missing"]))
        said.append(f"{names[s]} {'; '.join(parts)}")
    lines = [f"  - witness ({size}; {mark} by kbquery under each policy): {' / '.join(said)}"]
    note = _verify_note(w, names)
    if note:
        lines.append(f"  - {note}")
    return lines + ["", "    ```json", "    " + json.dumps(w.case, sort_keys=True), "    ```", ""]


def markdown(comparison: Comparison, clauses: dict | None = None) -> str:
    """The report for people; its first line says whether the search was exhaustive, its first table
    is the audit."""
    a, b = comparison.a, comparison.b
    names = {"a": a, "b": b}
    clauses = clauses or {}
    title = f"# Policy comparison: {a} against {b}"
    read = "; ".join(f"{names[s]} under {', '.join(f'{k}={v}' for k, v in r.items())}"
                     for s, r in comparison.readings.items() if r)
    lines = [title if comparison.exhaustive else f"{title}: **{comparison.incomplete}**", "",
             f"Searched every case the shared schema admits (each field taking every value either policy's "
             f"qa.lp tries, lists as long as the larger bound: up to {comparison.bounds.get('prior_procedures', 0)} "
             f"prior procedures), each decided by both policies' rules"
             + (f", {read}" if read else ", each under its register's readings") + ". "
             + ("The search was exhaustive: no other kind of request is decided differently, and no other "
                "criterion makes a difference." if comparison.exhaustive else
                "**The search was not exhaustive: other differences may exist.**"),
             f"{comparison.conflicts} solver conflicts (bound {comparison.conflict_limit} per worker, "
             f"{comparison.workers} worker{'s' if comparison.workers > 1 else ''}); {comparison.seconds:.1f} s, "
             f"grounding {comparison.ground_seconds:.1f} s.", ""]
    for s, notice in comparison.restatement.items():
        lines += [f"_{names[s]}: {notice}_", ""]
    lines += [f"## Audit: each kind of request under {a}, against {b}", "",
              f"_A kind is stricter when {a} denies or pends a request {b} approves, unless {b}'s determination "
              f"applies a reading its register marks as flexibility; {b} is silent where it does not address a "
              f"request {a} decides; VERIFY readings are those {b}'s register marks uncertain, and a finding rests "
              f"on one when its witness is decided otherwise under the reading's alternative (\"documentation "
              f"only\": there {b} asks for a fact the witness does not document, and would decide once it is)._", "",
              *audit_table(comparison), ""]
    lines += [f"## Differences ({len(comparison.differences)})", "",
              "_By direction; each kind of request by its code family and its kind under each policy, with a "
              "witness decided under both._", ""]
    for direction in DIRECTIONS:
        found = [d for d in comparison.differences if d.direction == direction]
        lines += [f"### {direction_title(direction, a, b)} ({len(found)})", ""]
        if not found:
            lines += ["None.", ""]
        for d in found:
            lines.append(f"- **{d.family}**, {_words(d.kind_a)} under {a}, {_words(d.kind_b)} under {b}: "
                         f"{a} {_words(d.determination_a)}, {b} {_words(d.determination_b)}")
            if d.witness:
                lines += _witness_lines(d.witness, names)
        lines.append("")
    lines += [f"## Criteria that make the difference ({len(comparison.criteria)})", "",
              "_By direction: each criterion a side's determination rests on (unmet where it denies, open where "
              "it pends) in some case the other side decides otherwise, with a witness._", ""]
    for direction in DIRECTIONS:
        found = [w for w in comparison.criteria if w.criterion["direction"] == direction]
        if not found:
            continue
        lines += [f"### {direction_title(direction, a, b)} ({len(found)})", ""]
        for w in found:
            c = w.criterion
            text = clauses.get(c["side"], {}).get(c["id"], "")
            lines.append(f"- {names[c['side']]} **{c['id']}**" + (f" ({text})" if text else "")
                         + f": {w.claim['family']}, {_words(w.claim['a']['request_kind'])} under {a}, "
                         f"{_words(w.claim['b']['request_kind'])} under {b}")
            lines += _witness_lines(w, names)
        lines.append("")
    return "\n".join(lines) + "\n"


def write_witnesses(comparison: Comparison, folder: Path) -> None:
    """Each witness as a case file without a policy key, so that it decides under either policy
    (`kbquery FILE --policy ID`), and index.json: per file, what each policy decides for it."""
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for i, w in enumerate(comparison.witnesses):
        about = (f"criterion-{w.criterion['side']}-{w.criterion['id']}" if w.criterion else
                 f"{w.claim['a']['request_kind']}-{w.claim['b']['request_kind']}")
        name = f"{i:03d}-{about}.json"
        (folder / name).write_text(json.dumps(w.case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        index.append({"file": name, comparison.a: {**w.claim["a"], "readings": comparison.readings["a"]},
                      comparison.b: {**w.claim["b"], "readings": comparison.readings["b"]},
                      "criterion": w.criterion, "verified": w.verified})
    (folder / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
