"""What would change it: each suggestion prefers documenting to contradicting the record, and
proposes the nearest date or number that works, checked by deciding again.

Over every unfavourable suite case (and one built for the purpose):
- a suggestion changes a documented field only when no setting of the absent, enumerable fields
  the determination lists as missing (one or two of them) makes the request favourable;
- a date or number a suggestion changes, moved one step back toward the documented value, no
  longer works (the proposal is the nearest value, not a fixed offset).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from conftest import CASES, ROOT, case_files, load_case_file
from kbquery import decide, decide_many, knowledge_base
from kbquery.case import subschema, with_values
from kbquery.explain import explain
from kbquery.symbols import text_path

FAVOURABLE = ("medically_necessary", "case_by_case_review")
SCHEMA = knowledge_base().schema
UNFAVOURABLE = [(p, s) for p, s in ((p, load_case_file(p)) for p in case_files())
                if s["expect"]["determination"] in ("not_medically_necessary", "more_information_needed")
                and s["case"].get("policy", "MC.CP.MP.166") == "MC.CP.MP.166"]


def _enumerable(path: str) -> list | None:
    sub = subschema(SCHEMA, text_path(path))
    if sub.get("type") == "boolean":
        return [True, False]
    return list(sub["enum"]) if "enum" in sub else None


def _documenting_suffices(d) -> bool:
    """Whether setting one or two absent enumerable fields listed as missing makes it favourable."""
    fields = sorted({p for paths in d.missing.values() for p in paths if _enumerable(p)})
    trials = []
    for size in (1, 2):
        for chosen in itertools.combinations(fields, size):
            for values in itertools.product(*map(_enumerable, chosen)):
                trials.append(with_values(d.case, [(text_path(p), v) for p, v in zip(chosen, values)]))
    return any(not isinstance(r, Exception) and r.determination in FAVOURABLE
               for r in decide_many(trials[:400], readings=d.readings))


def _one_step_back(value, was):
    """The proposed value moved one step (a day, a unit) toward the documented one."""
    if isinstance(value, bool) or was is None:
        return None
    if isinstance(value, int) and isinstance(was, int) and value != was:
        return value + (1 if was > value else -1)
    try:
        new, old = dt.date.fromisoformat(value), dt.date.fromisoformat(was)
    except (TypeError, ValueError):
        return None
    if new == old:
        return None
    return (new + dt.timedelta(days=1 if old > new else -1)).isoformat()


def _check(d):
    suggestions = explain(d).counterfactuals
    for cf in suggestions:
        again = decide(cf.apply(d.case), readings=d.readings)
        assert again.determination == cf.determination and again.determination in FAVOURABLE
        for change in cf.changes:
            back = _one_step_back(change.value, change.was)
            if back is None:
                continue
            others = [c for c in cf.changes if c is not change]
            moved = with_values(d.case, [(c.keys, c.value) for c in others] + [(change.keys, back)])
            result = decide(moved, readings=d.readings)
            assert result.determination not in FAVOURABLE, (str(change), back)
    if any(c.was is not None for cf in suggestions for c in cf.changes):
        assert not _documenting_suffices(d), [str(c) for cf in suggestions for c in cf.changes]
    return suggestions


@pytest.mark.parametrize("path,spec", UNFAVOURABLE, ids=[str(p.relative_to(CASES)) for p, _ in UNFAVOURABLE])
def test_suggestions_document_first_and_propose_the_nearest_value(path, spec):
    _check(decide(spec["case"], readings=spec.get("readings")))


def test_documenting_an_absent_fact_is_preferred_to_changing_a_documented_one():
    """Ultrasound guidance without a documented exception: switching to fluoroscopy would change a
    documented field; documenting a pregnancy changes none, and is the only suggestion."""
    case = load_case_file(CASES / "II_VII/alternatives/I.G.2.b-ultrasound-exception-open.json")["case"]
    suggestions = _check(decide(case))
    assert suggestions
    assert all(c.was is None for cf in suggestions for c in cf.changes), [str(cf.changes) for cf in suggestions]
    assert {(c.path, c.value) for cf in suggestions for c in cf.changes} == {("member.pregnant", True)}


def test_request_date_is_the_first_day_two_calendar_months_after_the_latest_injection():
    """III.C one day short: the nearest date, where the 62-day offset it replaces overshot."""
    case = load_case_file(CASES / "II_VII/III/III.C-one-day-short-of-two-months.json")["case"]
    d = decide(case)
    (cf,) = [cf for cf in explain(d).counterfactuals if any(c.path == "request.date" for c in cf.changes)]
    (change,) = [c for c in cf.changes if c.path == "request.date"]
    # The latest injection was on 2025-05-12; two calendar months later is 2025-07-12, one day on.
    assert max(p["date"] for p in case["prior_procedures"]) == "2025-05-12"
    assert (change.was, change.value) == ("2025-07-11", "2025-07-12")


def test_onset_is_the_latest_date_three_calendar_months_before_the_request():
    case = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())
    case["request"]["date"] = "2026-05-31"
    case["pain"]["onset_date"] = "2026-03-15"
    d = decide(case)
    changes = [c for cf in explain(d).counterfactuals for c in cf.changes if c.path == "pain.onset_date"]
    # 31 May less three months is 31 February: the latest onset that works is the last day of February.
    assert {c.value for c in changes} == {"2026-02-28"}
