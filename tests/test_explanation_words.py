"""What the text report and the explanation say, in words a reviewer acts on: the failed branch of
an open criterion, when a month threshold is reached (a day the month lacks rolls to the 1st),
the III.D window and what it leaves out, relief to a tenth of a percent, and singular counts."""

from __future__ import annotations

import copy
import json

from conftest import CASES, load_case_file
from kbquery import decide
from kbquery.explain import explain
from kbquery.report import text


def _case(name: str) -> dict:
    return copy.deepcopy(load_case_file(CASES / name)["case"])


def test_an_open_criterion_shows_the_branch_that_failed_beside_what_is_missing():
    d = decide(_case("II_VII/alternatives/III.A-pain-not-met-function-undocumented.json"))
    (iii_a,) = [c for c in d.criteria if c.id == "III.A"]
    assert iii_a.status == "unknown"
    assert any("pain relief 37.5% on 2025-03-03" in r for r in iii_a.reasons)
    report = " ".join(text(d).split())
    assert "- not met: relief on a score after the injection: pain relief 37.5% on 2025-03-03" in report
    assert "missing: prior_procedures[1].function.after" in report


def test_a_month_threshold_says_when_it_is_reached_and_a_lacking_day_rolls_to_the_first():
    case = _case("II_VII/III/III-all-met-repeat-therapeutic.json")
    case["prior_procedures"][1]["date"] = "2025-12-31"
    for measured in case["prior_procedures"][1]["pain"]["after"] + case["prior_procedures"][1]["function"]["after"]:
        measured["date"] = "2026-01-15"
    case["request"]["date"] = "2026-02-28"
    case["pain"]["onset_date"] = "2025-06-01"
    case["conservative_therapy"] = {**case["conservative_therapy"], "start_date": "2025-07-01", "end_date": "2025-09-01"}
    d = decide(case)
    (iii_c,) = [c for c in d.criteria if c.id == "III.C"]
    assert iii_c.reasons == ["at least two months since the most recent SIJ injection: 1 whole month from the injection "
                             "on 2025-12-31 to the request on 2026-02-28; at least 2 required, reached on 2026-03-01"]


def test_the_twelve_month_window_says_where_it_begins_and_what_it_leaves_out():
    d = decide(_case("II_VII/III/III.D-injection-exactly-12-months-before-not-counted.json"))
    tree = explain(d).text()
    assert "3 therapeutic SIJ injections at the left site from 2025-03-03 to 2026-03-02" in tree
    assert "the therapeutic injection on 2025-03-02 is not counted: the 12 months before the request begin on 2025-03-03" in tree


def test_relief_is_shown_to_a_tenth_and_never_rounded_up_to_a_threshold():
    case = _case("II_VII/III/III.A-relief-one-unit-under-50-percent.json")
    d = decide(case)
    words = json.dumps(d.to_dict())
    assert "pain relief 37.5%" in words
    # 74.9...% must not read as 75%: 3 before, 0.76 after is not expressible, so use 400 -> 101 (74.75%).
    dx = _case("I/I.G.2.a/I.G.2.a-relief-exactly-75-percent-met.json")
    dx["prior_procedures"][0]["pain"]["before"] = 400
    dx["prior_procedures"][0]["pain"]["after"][0]["score"] = 101
    dx["pain"]["scale"] = dx["prior_procedures"][0]["pain"]["scale"] = "VAS"
    tree = explain(decide(dx)).text()
    assert "pain relief 74.7% on" in tree and "75.0%" not in tree


def test_counts_of_one_are_singular():
    d = decide(_case("II_VII/III/III.D-injection-exactly-12-months-before-not-counted.json"))
    case = copy.deepcopy(d.case)
    case["prior_procedures"] = [p for p in case["prior_procedures"] if p["purpose"] != "therapeutic"] + [
        p for p in case["prior_procedures"] if p["purpose"] == "therapeutic"][-1:]
    tree = explain(decide(case)).text()
    assert "1 therapeutic SIJ injection at the left site" in tree
    assert "1 therapeutic SIJ injections" not in tree and "1 whole months" not in tree and " 1 days" not in tree
