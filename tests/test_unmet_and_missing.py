"""`unmet` and `missing` hold exactly what docs/determination.md says, on generated cases.

The checks do not trust the rules' own bookkeeping: an independent Kleene evaluator re-evaluates
the program's evaluated tree (part/2, all_of/any_of/at_least/agree and the leaves' statuses from
the full answer set) with chosen criteria forced to `met`, and `missing` is checked by deciding
the case again with the fields set.

- unmet: every id is a not-met criterion of a not-medically-necessary determination, exactly those
  the evaluator reaches from the decision through not-met nodes; forcing all of them to met lifts
  the denial, and a lone one changes the determination; forcing any other not-met criterion to
  met changes nothing.
- missing: each field is read by an unknown condition under a criterion that still matters (none
  under a met alternative); for a criterion whose missing fields are all enumerable (booleans,
  enums), some assignment of them changes the determination, the kind of request or a criterion.
"""

from __future__ import annotations

import itertools
import random

import pytest

from conftest import load_reference
from kbquery import decide_many, knowledge_base
from kbquery.case import subschema, with_values
from kbquery.determination import node_id
from kbquery.solve import solve
from kbquery.symbols import path_text, symbol_path

random_case = load_reference().random_case
KB = knowledge_base()
CASES = [random_case(random.Random(seed)) for seed in range(240)]
DECIDED = [d for d in decide_many(CASES) if not isinstance(d, Exception)]
ORDER = {"not_met": -1, "unknown": 0, "met": 1}
NAME = {v: k for k, v in ORDER.items()}


class Tree:
    """The evaluated tree of a full answer set, re-evaluated with some statuses forced."""

    def __init__(self, answer):
        self.status = {node_id(n): s.name for n, s in answer.args("status", 2)}
        self.parts: dict[str, list[str]] = {}
        for n, c in answer.args("part", 2):
            self.parts.setdefault(node_id(n), []).append(node_id(c))
        self.kind = {node_id(n): "all" for (n,) in answer.args("all_of", 1)}
        self.kind |= {node_id(n): "any" for (n,) in answer.args("any_of", 1)}
        self.kind |= {node_id(n): "agree" for (n,) in answer.args("agree", 1)}
        self.threshold = {node_id(n): k.number for n, k in answer.args("at_least", 2)}
        self.reads: dict[str, set[str]] = {}
        for n, p in answer.args("reads", 2):
            self.reads.setdefault(node_id(n), set()).add(path_text(symbol_path(p)))

    def failing_criteria(self, criteria: set[str]) -> set[str]:
        """The criteria reached from the decision through nodes the evaluator finds not met."""
        found, todo = set(), ["decision"] if self.evaluate("decision", {}) == "not_met" else []
        while todo:
            for child in self.parts.get(todo.pop(), []):
                if child not in found and self.evaluate(child, {}) == "not_met":
                    found.add(child)
                    todo.append(child)
        return found & criteria

    def evaluate(self, node: str, forced: dict[str, str], memo: dict | None = None) -> str:
        memo = {} if memo is None else memo
        if node in forced:
            return forced[node]
        if node in memo:
            return memo[node]
        parts = [ORDER[self.evaluate(c, forced, memo)] for c in self.parts.get(node, [])]
        if node in self.threshold:
            met, open_ = parts.count(1), parts.count(0)
            value = 1 if met >= self.threshold[node] else -1 if met + open_ < self.threshold[node] else 0
        elif self.kind.get(node) == "all":
            value = min(parts, default=1)
        elif self.kind.get(node) == "any":
            value = max(parts, default=-1)
        elif self.kind.get(node) == "agree":
            value = parts[0] if parts and len(set(parts)) == 1 else 0
        else:  # a leaf: the policy's own rules over the case decided it
            value = ORDER[self.status.get(node, "unknown")]
        memo[node] = NAME[value]
        return memo[node]


def tree(d) -> Tree:
    return Tree(solve(d.kb, d.case, d.readings, full=True))


def test_the_generated_cases_exercise_both_lists():
    assert sum(bool(d.unmet) for d in DECIDED) >= 40
    assert sum(bool(d.missing) for d in DECIDED) >= 40
    assert sum(len(d.unmet) >= 2 for d in DECIDED) >= 10


def test_the_evaluator_reproduces_every_status():
    for d in DECIDED[:60]:
        t = tree(d)
        for node, status in t.status.items():
            assert t.evaluate(node, {}) == status, (d.case_id, node)


@pytest.mark.parametrize("index", range(0, len(CASES), 40))
def test_unmet_is_what_the_denial_rests_on(index):
    for d in DECIDED[index:index + 40]:
        t = tree(d)
        unmet = set(d.unmet)
        statuses = {c.id: c.status for c in d.criteria}
        if d.determination != "not_medically_necessary":
            assert not unmet, d.case_id
            continue
        assert unmet, d.case_id
        assert all(statuses[c] == "not_met" for c in unmet), d.case_id
        lifted = t.evaluate("decision", {c: "met" for c in unmet})
        assert lifted != "not_met", (d.case_id, sorted(unmet))
        assert unmet == t.failing_criteria(set(statuses)), d.case_id
        if len(unmet) == 1:  # the one criterion denied it: met, the determination changes
            assert t.evaluate("decision", {c: "met" for c in unmet}) != "not_met"
        for c in statuses:
            if statuses[c] == "not_met" and c not in unmet:
                assert t.evaluate("decision", {c: "met"}) == "not_met", (d.case_id, c)


def _matters(t: Tree) -> set[str]:
    """Nodes reached from the decision without passing a met node, through unknown nodes below
    the decision's own parts: where an undocumented field can still make a difference."""
    found, todo = set(), ["decision"]
    while todo:
        node = todo.pop()
        for child in t.parts.get(node, []):
            if t.status.get(node) != "met" and (node == "decision" or t.status.get(child) == "unknown") \
                    and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _outcome(d) -> tuple:
    return d.determination, d.request_kind, [(c.id, c.status) for c in d.criteria]


def _admissible(path: str) -> list | None:
    sub = subschema(KB.schema, _keys(path))
    if sub.get("type") == "boolean":
        return [True, False]
    return list(sub["enum"]) if "enum" in sub else None


def _keys(path: str) -> tuple:
    from kbquery.symbols import text_path
    return text_path(path)


@pytest.mark.parametrize("index", range(0, len(CASES), 40))
def test_missing_fields_can_each_still_matter(index):
    checked = 0
    for d in DECIDED[index:index + 40]:
        if not d.missing:
            continue
        t = tree(d)
        reachable = _matters(t)
        open_reads = {p for n in reachable if t.status.get(n) == "unknown" for p in t.reads.get(n, ())}
        statuses = {c.id: c.status for c in d.criteria}
        for cid, paths in d.missing.items():
            assert statuses[cid] == "unknown" and cid in reachable, (d.case_id, cid)
            assert set(paths) <= open_reads, (d.case_id, cid, set(paths) - open_reads)
            values = [_admissible(p) for p in paths]
            if any(v is None for v in values) or len(paths) > 6:
                continue
            outcomes = []
            for combination in itertools.islice(itertools.product(*values), 64):
                outcomes.append(with_values(d.case, [(_keys(p), v) for p, v in zip(paths, combination)]))
            settles = False
            for again in decide_many(outcomes, readings=d.readings):
                if isinstance(again, Exception):
                    continue  # a value the case's other fields rule out (a date order, say)
                # It mattered: the determination, the kind of request or a criterion changed.
                if _outcome(again) != _outcome(d):
                    settles = True
                    break
            assert settles, (d.case_id, cid, paths)
            checked += 1
    assert checked >= 1
