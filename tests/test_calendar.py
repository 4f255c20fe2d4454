"""kb/common/calendar.lp against Python's own calendar, on dates the QA search never meets: month
ends, leap days, the Gregorian century rules (1900 and 2100 are not leap years, 2000 is).

QA searches dates on a grid around one request day, so its dead-rule check cannot reach the
month-end rules; this test does, on every kind of date."""

from __future__ import annotations

import calendar
import datetime as dt

import clingo
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kbquery.knowledge import kb_root
from kbquery.symbols import day_number

RULES = (kb_root() / "common" / "calendar.lp").read_text(encoding="utf-8")
F, N = clingo.Function, clingo.Number


def later(day: dt.date, months: int) -> dt.date:
    """`months` calendar months after `day`; a day of month the later month lacks rolls to the 1st of the next."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if day.day <= calendar.monthrange(year, month)[1]:
        return dt.date(year, month, day.day)
    return dt.date(year, month, 1) + dt.timedelta(days=calendar.monthrange(year, month)[1])


def earlier(day: dt.date, months: int) -> dt.date:
    """The latest date from which `months` whole calendar months have passed by `day` (the month's last
    day where it lacks `day`'s day of month)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months(a: dt.date, b: dt.date) -> int:
    return (b.year * 12 + b.month) - (a.year * 12 + a.month) - (b.day < a.day)


def solve(facts: list[clingo.Symbol]) -> set[clingo.Symbol]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], RULES)
    with ctl.backend() as backend:
        for sym in facts:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return {a.symbol for a in ctl.symbolic_atoms if a.is_fact}


def calendar_fact(day: dt.date) -> clingo.Symbol:
    return F("calendar", [N(day_number(day.isoformat())), N(day.year), N(day.month), N(day.day)])


dates = st.dates(dt.date(1890, 1, 1), dt.date(2410, 12, 31))
month_ends = st.builds(lambda y, m: dt.date(y, m, calendar.monthrange(y, m)[1]),
                       st.sampled_from([1899, 1900, 1999, 2000, 2023, 2024, 2099, 2100, 2399, 2400]),
                       st.integers(1, 12))


@settings(max_examples=300, deadline=None)
@given(st.one_of(dates, month_ends), st.one_of(dates, month_ends), st.integers(0, 48))
@example(dt.date(2026, 1, 31), dt.date(2026, 3, 1), 1)    # rolls to 1 March
@example(dt.date(2023, 12, 31), dt.date(2024, 2, 29), 2)  # 31 February 2024 rolls to 1 March
@example(dt.date(1999, 12, 29), dt.date(2000, 4, 29), 2)  # 2000 is a leap year: 29 February
@example(dt.date(1899, 12, 29), dt.date(1900, 4, 29), 2)  # 1900 and 2100 are not: 1 March, and 28 February back
@example(dt.date(2099, 12, 29), dt.date(2100, 4, 29), 2)
@example(dt.date(2024, 2, 29), dt.date(2025, 2, 28), 12)
def test_month_arithmetic_agrees_with_python(a, b, months):
    a, b = min(a, b), max(a, b)
    da, db = day_number(a.isoformat()), day_number(b.isoformat())
    facts = [calendar_fact(a), calendar_fact(b), F("month_pair", [N(da), N(db)]),
             F("month_shift", [N(da), N(months)]), F("month_back", [N(db), N(months)])]
    derived = solve(facts)
    by = lambda name: {tuple(x.number for x in s.arguments) for s in derived if s.match(name, 3)}
    assert by("months_between") == {(da, db, whole_months(a, b))}
    # month_back(B, N) asks for month_shift(B, -N) as well: keep the shift asked for here
    assert {t for t in by("months_later") if t[:2] == (da, months)} == {(da, months, day_number(later(a, months).isoformat()))}
    assert by("months_earlier") == {(db, months, day_number(earlier(b, months).isoformat()))}
