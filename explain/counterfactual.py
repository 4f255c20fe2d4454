"""What would change it: the fewest case fields to document or change for a favourable determination.

Computed with clingo: the first run proposes candidate changes (fix/3 of every leaf in the
tree that is not met, and each value the schema allows for an absent field that would settle
an unknown criterion); kb/common/counterfactual.lp chooses among them and minimises the
number of fields changed. Every answer is checked by re-deciding the changed case in tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import clingo

from kbquery.case import subschema, value_at, with_values
from kbquery.determination import Determination
from kbquery.facts import case_symbols
from kbquery.solve import solve_optimal
from kbquery.symbols import is_name, json_value, path_text, scalar_symbol, symbol_path

ENCODING = "common/counterfactual.lp"
RENAMED = {"value": "case_value", "present": "case_present", "length": "case_length"}


@dataclass(frozen=True)
class Change:
    path: str
    value: object  # as JSON
    was: object = None  # as JSON, None when the field was absent
    keys: tuple = ()

    def __str__(self) -> str:
        shown = render_json(self.value)
        return f"{self.path}: {render_json(self.was)} -> {shown}" if self.was is not None else f"{self.path}: document {shown}"


@dataclass(frozen=True)
class Counterfactual:
    changes: tuple[Change, ...]
    determination: str

    def apply(self, case: dict) -> dict:
        return apply(case, self.changes)


def render_json(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def apply(case: dict, changes) -> dict:
    """A copy of the case with the changes made (objects created as needed)."""
    return with_values(case, [(change.keys, change.value) for change in changes])


def _schema_candidates(d: Determination, schema: dict) -> list[clingo.Symbol]:
    """Each value the schema allows for an absent field that would settle an unknown criterion."""
    found = []
    paths = {p for _, p in d.answer.args("missing", 2)}
    for p in paths:
        sub = subschema(schema, symbol_path(p))
        values = sub.get("enum", []) if sub.get("type") == "string" else [True, False] if sub.get("type") == "boolean" else []
        found += [clingo.Function("candidate_change", [p, scalar_symbol(v, closed=is_name(str(v)))]) for v in values]
    return found


def counterfactuals(d: Determination, limit: int = 5) -> list[Counterfactual]:
    favourable = {f.name for (f,) in d.answer.args("favourable", 1)}
    if d.determination in favourable or not d.criteria:
        return []
    kb = d.kb
    facts = [clingo.Function(RENAMED.get(s.name, s.name), s.arguments) for s in case_symbols(d.case, kb.schema)]
    candidates = [clingo.Function("candidate_change", list(a)) for a in d.answer.args("candidate_change", 2)]
    candidates += _schema_candidates(d, kb.schema)
    known_days = {s.arguments[0].number for s in facts if s.match("calendar", 4)}
    for c in candidates:  # calendar facts for the dates a change would bring in
        value = c.arguments[1]
        if value.match("date", 1) and value.arguments[0].number not in known_days:
            day = value.arguments[0].number
            date = dt.date.fromordinal(day + dt.date(1970, 1, 1).toordinal())
            facts.append(clingo.Function("calendar", [clingo.Number(day), *map(clingo.Number, (date.year, date.month, date.day))]))
    answers = solve_optimal(kb, facts + candidates, [kb.root / ENCODING], d.readings, limit)
    results = []
    for answer in answers:
        changes = []
        for p, v in sorted(answer.args("set", 2)):
            keys = symbol_path(p)
            changes.append(Change(path_text(keys), json_value(v), value_at(d.case, keys), keys))
        (determination,) = answer.first("determination", 1)
        results.append(Counterfactual(tuple(changes), determination.name))
    return results


__all__ = ["Change", "Counterfactual", "apply", "counterfactuals"]
