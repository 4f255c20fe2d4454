"""A validated case as clingo symbols: the atoms the knowledge base reads.

    present(Path)           the object at Path is documented (the rules say so of lists and values)
    value(Path, V)          the scalar at Path
    length(Path, N)         the list at Path has N items
    calendar(Day, Y, M, D)  the calendar date of each day number in the case

Paths are tuples of keys and indices. Every value is built with clingo's symbol API. Many cases
solve in one Control (kbquery.program.tag_cases): each fact then carries its case's number first.
"""

from __future__ import annotations

import datetime as dt

import clingo

from .case import walk
from .symbols import date_symbol, day_number, path_symbol, scalar_symbol

F = clingo.Function
N = clingo.Number
INPUTS = {"present", "value", "length", "calendar"}


def case_symbols(case: dict, schema: dict, number: int | None = None) -> list[clingo.Symbol]:
    """The case's facts; with `number`, each tagged with it for a Control that holds many cases."""
    tag = [] if number is None else [N(number)]
    symbols: list[clingo.Symbol] = []
    days: set[str] = set()
    for path, value, sub in walk(case, schema):
        # Echo-only fields (the caller's identifier) never reach the solver: clingo keeps every
        # symbol for the life of the process, and a batch would grow by one per case.
        if not path or sub.get("x-echo-only"):
            continue
        p = path_symbol(path)
        if isinstance(value, dict):
            symbols.append(F("present", [*tag, p]))
        elif isinstance(value, list):
            symbols.append(F("length", [*tag, p, N(len(value))]))
        elif sub.get("format") == "date":
            symbols.append(F("value", [*tag, p, date_symbol(value)]))
            days.add(value)
        else:
            symbols.append(F("value", [*tag, p, scalar_symbol(value, closed="enum" in sub)]))
    for iso in sorted(days):
        d = dt.date.fromisoformat(iso)
        symbols.append(F("calendar", [*tag, N(day_number(iso)), N(d.year), N(d.month), N(d.day)]))
    return symbols
