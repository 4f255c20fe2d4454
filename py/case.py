"""Reading and validating a case against the policy's JSON Schema.

Every error names the offending path. Unknown keys are errors, a null is an absent field,
and the schema's own annotations say which dates must come in which order:
``x-reference-date`` (no date of the case after it) and ``x-date-order`` (pairs of paths,
``[]`` standing for each item of a list, whose dates must not be reversed).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema_rs

from .symbols import path_text

MAX_BYTES = 5_000_000


class CaseError(ValueError):
    """A case that is not valid input; ``errors`` lists (path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path or '(case)'}: {msg}" for path, msg in errors))


def parse(text: str | bytes) -> Any:
    if len(text) > MAX_BYTES:
        raise CaseError([("", f"the case is larger than the limit of {MAX_BYTES} bytes")])
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CaseError([("", f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}")]) from None
    except (UnicodeDecodeError, RecursionError) as e:
        raise CaseError([("", f"unreadable JSON: {type(e).__name__}")]) from None


def without_nulls(value: Any) -> Any:
    """A null field is an absent one: drop object keys whose value is null."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def walk(value: Any, schema: dict, path: tuple = ()) -> Iterator[tuple[tuple, Any, dict]]:
    """Every (path, value, subschema) of a valid case, the case itself first."""
    yield path, value, schema
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, schema.get("properties", {}).get(key, {}), path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, schema.get("items", {}), path + (i,))


def _pattern_matches(case: Any, pattern: str) -> Iterator[tuple[tuple, Any]]:
    """Values at a path pattern like ``prior_procedures[].pain.after[].date``."""
    found = [((), case)]
    for step in pattern.replace("[]", ".[]").split("."):
        nxt = []
        for path, value in found:
            if step == "[]" and isinstance(value, list):
                nxt += [(path + (i,), v) for i, v in enumerate(value)]
            elif isinstance(value, dict) and step in value:
                nxt.append((path + (step,), value[step]))
        found = nxt
    return iter(found)


def _date_errors(case: dict, schema: dict) -> list[tuple[str, str]]:
    errors = []
    reference = schema.get("x-reference-date")
    if reference:
        ref_path, ref = next(_pattern_matches(case, reference))
        for path, value, sub in walk(case, schema):
            if sub.get("format") == "date" and path != ref_path and value > ref:
                errors.append((path_text(path), f"date {value} is after {reference} {ref}"))
    for earlier, later in schema.get("x-date-order", []):
        firsts = dict(_pattern_matches(case, earlier))
        for path, value in _pattern_matches(case, later):
            anchor = next((p for p in firsts if _same_items(p, path)), None)
            if anchor is not None and value < firsts[anchor]:
                errors.append((path_text(path), f"date {value} is before {path_text(anchor)} {firsts[anchor]}"))
    return errors


def _same_items(earlier: tuple, later: tuple) -> bool:
    """Whether the earlier path goes through the same list items as the later one."""
    idx_e = [p for p in earlier if isinstance(p, int)]
    idx_l = [p for p in later if isinstance(p, int)]
    return idx_e == idx_l[: len(idx_e)]


def with_values(case: dict, changes: Iterable[tuple[tuple, Any]]) -> dict:
    """A copy of the case with the field at each path set, creating absent objects on the way."""
    changed = copy.deepcopy(case)
    for path, value in changes:
        parent = changed
        for key in path[:-1]:
            parent = parent.setdefault(key, {}) if isinstance(key, str) else parent[key]
        parent[path[-1]] = value
    return changed


def subschema(schema: dict, path: tuple) -> dict:
    """The part of a schema that governs the field at a path (keys and list indices)."""
    for key in path:
        schema = schema.get("items", {}) if isinstance(key, int) else schema.get("properties", {}).get(key, {})
    return schema


def _describe(error, schema: dict) -> list[tuple[str, str]]:
    """An error as (dotted path, message); the message says what is wrong without echoing a huge value."""
    where = tuple(error.instance_path)
    path, kind, value = path_text(where), error.kind, error.instance
    if kind.name == "additionalProperties":
        allowed = sorted(subschema(schema, where).get("properties", {}))
        return [(path_text(where + (k,)), f"unknown key {k!r}; allowed here: {', '.join(allowed)}")
                for k in sorted(kind.unexpected)]
    if kind.name == "required":
        return [(path_text(where + (kind.property,)), "required field is missing")]
    if kind.name == "format":
        return [(path, f"{value!r} is not a calendar date YYYY-MM-DD")]
    if kind.name in ("maxItems", "maxLength"):
        unit = "items" if kind.name == "maxItems" else "characters"
        return [(path, f"{len(value)} {unit}; the limit is {kind.limit}")]
    if kind.name == "type":
        return [(path, f"{value!r} is not of type {' or '.join(map(repr, kind.types))}")]
    if kind.name == "enum":
        return [(path, f"{value!r} is not one of {kind.options}")]
    message = error.message
    return [(path, message if len(message) < 300 else message[:300] + "...")]


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def _validator(schema: dict):
    """One compiled validator per schema (held with it, so its id stays its own)."""
    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = (schema, jsonschema_rs.Draft202012Validator(schema, validate_formats=True))
    return _VALIDATORS[id(schema)][1]


def validate(case: Any, schema: dict) -> dict:
    """The case without nulls, or CaseError naming every offending path."""
    try:
        case = without_nulls(case)
    except RecursionError:
        raise CaseError([("", "nested too deeply")]) from None
    if not isinstance(case, dict):
        raise CaseError([("", "a case is a JSON object")])
    validator = _validator(schema)
    errors = sorted(validator.iter_errors(case), key=lambda e: (list(map(str, e.instance_path)), e.message))
    described = [d for e in errors for d in _describe(e, schema)]
    if described:
        raise CaseError(described)
    dates = _date_errors(case, schema)
    if dates:
        raise CaseError(dates)
    return case


SUITE_KEYS = ("description", "case", "readings", "expect")


def case_document(document: Any) -> tuple[Any, dict[str, str] | None, str]:
    """(case, readings, within) of a document: a bare case is its own case, with no readings; a
    suite case file ({"description", "case", "readings"?, "expect"}, as under tests/cases), told
    apart by a top-level "case" object beside "expect", holds its case under "case" (`within`,
    which prefixes the case's error paths) and the readings its expectations were written under.
    The one place that knows both forms: every command reads case files through it."""
    if not (isinstance(document, dict) and isinstance(document.get("case"), dict) and "expect" in document):
        return document, None, ""
    errors = [(key, f"unknown key {key!r} in a suite case file; allowed here: {', '.join(SUITE_KEYS)}")
              for key in document if key not in SUITE_KEYS]
    readings = document.get("readings") or {}
    if not (isinstance(readings, dict) and all(isinstance(v, str) for v in readings.values())):
        errors.append(("readings", "an object of reading ids and choices, e.g. {\"bilateral_injection\": \"one_injection\"}"))
    if errors:
        raise CaseError(errors)
    return document["case"], readings, "case"
