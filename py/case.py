"""Reading and validating a case against the policy's JSON Schema.

Every error names the offending path. Unknown keys are errors, a null is an absent field,
and the schema's own annotations say which dates must come in which order:
``x-reference-date`` (no date of the case after it) and ``x-date-order`` (pairs of paths,
``[]`` standing for each item of a list, whose dates must not be reversed).

What JSON can say but a case cannot is refused too, by path: a key given twice (JSON would keep
one of the values silently), a number that is not finite (NaN, Infinity, 1e400), a lone
surrogate (not Unicode text, so not writable as UTF-8). At most MAX_ERRORS errors are kept
per case, the rest counted, and no message echoes a large value whole.
"""

from __future__ import annotations

import copy
import heapq
import json
import math
import re
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema_rs

from .symbols import path_text

MAX_BYTES = 5_000_000
MAX_ERRORS = 20  # errors reported per case; the rest are only counted
MAX_CASE_ID = 200  # the longest case_id shown beside an error (the schema's own limit)

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60
_SHOW.maxlong = 40
_SHOW.maxlist = _SHOW.maxdict = 4


def _shown(value: Any) -> str:
    """A value as a message shows it: short (repr escapes what is not printable, surrogates too)."""
    return _SHOW.repr(value)


class CaseError(ValueError):
    """A case that is not valid input; ``errors`` lists (path, message) pairs, the first
    MAX_ERRORS of them, ``more`` counts the rest, ``case_id`` is the case's when it was readable."""

    def __init__(self, errors: list[tuple[str, str]], more: int = 0, case_id: str | None = None):
        self.errors = errors[:MAX_ERRORS]
        self.more = more + len(errors) - len(self.errors)
        self.case_id = case_id
        super().__init__("; ".join([f"{path or '(case)'}: {msg}" for path, msg in self.errors]
                                   + ([self.more_line()] if self.more else [])))

    def more_line(self) -> str:
        return f"... and {self.more} more errors"

    def within(self, prefix: str) -> CaseError:
        """The same error with every path inside `prefix` (a case held under a key of a larger document)."""
        inside = [(f"{prefix}.{p}" if p and not p.startswith("[") else prefix + p, m) for p, m in self.errors]
        return CaseError(inside, self.more, self.case_id)


def _first(errors: Iterable[tuple[tuple, str]], case_id: str | None = None) -> CaseError | None:
    """The first MAX_ERRORS errors in path order, and the count of the others, in bounded memory."""
    count = 0

    def counted():
        nonlocal count
        for error in errors:
            count += 1
            yield error

    first = heapq.nsmallest(MAX_ERRORS, counted(), key=_order)
    return CaseError([(_path(p), m) for p, m in first], count - len(first), case_id) if first else None


def _order(error: tuple[tuple, str]) -> tuple:
    path, message = error
    return [(isinstance(p, str), p) for p in path], message


def _path(path: tuple) -> str:
    """The dotted path, with any key too long to be the schema's shortened (an unknown key can be huge)."""
    return path_text(tuple(_shown(p)[1:-1] if isinstance(p, str) and (len(p) > 60 or _SURROGATE.search(p)) else p
                           for p in path))


class _Repeated(dict):
    """A JSON object that gave some keys more than once (``repeated``); json kept the last value."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        obj = _Repeated(obj)
        obj.repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    return obj


def _int(digits: str) -> int | float:
    try:
        return int(digits)
    except ValueError:  # beyond Python's limit on digits: as unreadable as 1e400
        return math.inf


def _unsound(value: Any) -> Iterator[tuple[tuple, str]]:
    """What JSON can say but a case cannot: repeated keys, numbers that are not finite, lone surrogates."""
    stack = [((), value)]  # no recursion: nesting is as deep as the JSON parser allowed
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in getattr(value, "repeated", ()):
                yield path + (key,), f"key {_shown(key)} is given more than once"
            for key, item in value.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    yield path + (key,), "the key holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
                else:
                    stack.append((path + (key,), item))
        elif isinstance(value, list):
            stack.extend((path + (i,), item) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            yield path, "not a finite number (NaN, Infinity, or too large to read)"
        elif isinstance(value, str) and _SURROGATE.search(value):
            yield path, f"{_shown(value)} holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"


def case_id_of(case: Any) -> str | None:
    """The case's case_id, when it can be shown beside an error: a short string of Unicode text, given once."""
    case_id = case.get("case_id") if isinstance(case, dict) and "case_id" not in getattr(case, "repeated", ()) else None
    ok = isinstance(case_id, str) and 0 < len(case_id) <= MAX_CASE_ID and not _SURROGATE.search(case_id)
    return case_id if ok else None


def parse(text: str | bytes) -> Any:
    """A case from JSON text (bytes are UTF-8, a leading byte order mark ignored), or CaseError."""
    if len(text) > MAX_BYTES:
        raise CaseError([("", f"the case is larger than the limit of {MAX_BYTES} bytes")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CaseError([("", f"not UTF-8 text: byte {e.object[e.start]:#04x} at offset {e.start}")]) from None
    if not text.strip():
        raise CaseError([("", "empty input: no case")])
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_int)
    except json.JSONDecodeError as e:
        raise CaseError([("", f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}")]) from None
    except RecursionError:
        raise CaseError([("", "nested too deeply")]) from None
    error = _first(_unsound(value), case_id_of(value))
    if error:
        raise error
    return value


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


def _date_errors(case: dict, schema: dict) -> Iterator[tuple[tuple, str]]:
    """Dates out of order, each pair of dates once (an x-date-order pair may restate the reference date's rule)."""
    told: set[frozenset] = set()
    reference = schema.get("x-reference-date")
    if reference:
        ref_path, ref = next(_pattern_matches(case, reference))
        for path, value, sub in walk(case, schema):
            if sub.get("format") == "date" and path != ref_path and value > ref:
                told.add(frozenset((path, ref_path)))
                yield path, f"date {value} is after {reference} {ref}"
    for earlier, later in schema.get("x-date-order", []):
        firsts = dict(_pattern_matches(case, earlier))
        for path, value in _pattern_matches(case, later):
            anchor = next((p for p in firsts if _same_items(p, path)), None)
            if anchor is not None and value < firsts[anchor] and frozenset((path, anchor)) not in told:
                yield path, f"date {value} is before {path_text(anchor)} {firsts[anchor]}"


def _same_items(earlier: tuple, later: tuple) -> bool:
    """Whether the earlier path goes through the same list items as the later one."""
    idx_e = [p for p in earlier if isinstance(p, int)]
    idx_l = [p for p in later if isinstance(p, int)]
    return idx_e == idx_l[: len(idx_e)]


def value_at(case: Any, path: tuple) -> Any:
    """The value at a path of keys and list indices, or None where the case has none."""
    for key in path:
        if isinstance(case, dict) and key in case:
            case = case[key]
        elif isinstance(case, list) and isinstance(key, int) and key < len(case):
            case = case[key]
        else:
            return None
    return case


def with_values(case: dict, changes: Iterable[tuple[tuple, Any]]) -> dict:
    """A copy of the case with the field at each path set, creating absent objects, lists and list
    items on the way (a list index is one past the end at most)."""
    changed = copy.deepcopy(case)
    for path, value in changes:
        parent = changed
        for key, after in zip(path[:-1], path[1:]):
            if isinstance(key, str):
                parent = parent.setdefault(key, [] if isinstance(after, int) else {})
            else:
                if key == len(parent):
                    parent.append({})
                parent = parent[key]
        parent[path[-1]] = value
    return changed


def subschema(schema: dict, path: tuple) -> dict:
    """The part of a schema that governs the field at a path (keys and list indices)."""
    for key in path:
        schema = schema.get("items", {}) if isinstance(key, int) else schema.get("properties", {}).get(key, {})
    return schema


def _oversized(value: Any, schema: dict, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Lists longer than the schema allows. Refused before their items are looked at: validating
    the items too gives an error per item (300,000 bad items were 300,002 errors and seconds)."""
    if isinstance(value, list):
        limit = schema.get("maxItems")
        if limit is not None and len(value) > limit:
            yield path, f"{len(value)} items; the limit is {limit}"
            return
        for i, item in enumerate(value):
            yield from _oversized(item, schema.get("items", {}), path + (i,))
    elif isinstance(value, dict):  # only the schema's own keys: the depth stays the schema's
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from _oversized(value[key], sub, path + (key,))


def _describe(error, schema: dict) -> list[tuple[tuple, str]]:
    """An error as (path, message); the message says what is wrong without echoing a large value."""
    path, kind, value = tuple(error.instance_path), error.kind, error.instance
    if kind.name == "additionalProperties":
        allowed = sorted(subschema(schema, path).get("properties", {}))
        return [(path + (k,), f"unknown key {_shown(k)}; allowed here: {', '.join(allowed)}")
                for k in sorted(kind.unexpected)]
    if kind.name == "required":
        return [(path + (kind.property,), "required field is missing")]
    if kind.name == "format":
        return [(path, f"{_shown(value)} is not a calendar date YYYY-MM-DD")]
    if kind.name == "pattern" and subschema(schema, path).get("format") == "date":
        return []  # the format error says it (the pattern only restates the format for other validators)
    if kind.name == "maxLength":
        return [(path, f"{len(value)} characters; the limit is {kind.limit}")]
    if kind.name == "type":
        return [(path, f"{_shown(value)} is not of type {' or '.join(map(repr, kind.types))}")]
    if kind.name == "enum":
        return [(path, f"{_shown(value)} is not one of {kind.options}")]
    if kind.name in ("minimum", "maximum"):
        return [(path, f"{_shown(value)} is {'less' if kind.name == 'minimum' else 'greater'} than the "
                       f"{kind.name} of {kind.limit}")]
    message = error.message
    return [(path, message if len(message) < 200 else message[:200] + "...")]


def _schema_errors(case: dict, schema: dict) -> Iterator[tuple[tuple, str]]:
    """The schema's errors, described; a generator, since jsonschema_rs finds them all at once when asked."""
    for error in _validator(schema).iter_errors(case):
        yield from _describe(error, schema)


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def _validator(schema: dict):
    """One compiled validator per schema (held with it, so its id stays its own)."""
    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = (schema, jsonschema_rs.Draft202012Validator(schema, validate_formats=True))
    return _VALIDATORS[id(schema)][1]


def validate(case: Any, schema: dict) -> dict:
    """The case without nulls, or CaseError naming the offending paths (the first MAX_ERRORS, and a count)."""
    error = _first(_unsound(case))  # a case built in Python can hold what parse refuses
    if error:
        raise error
    try:
        case = without_nulls(case)
    except RecursionError:
        raise CaseError([("", "nested too deeply")]) from None
    if not isinstance(case, dict):
        raise CaseError([("", "a case is a JSON object")])
    case_id = case_id_of(case)
    error = (_first(_oversized(case, schema), case_id) or _first(_schema_errors(case, schema), case_id)
             or _first(_date_errors(case, schema), case_id))
    if error:
        raise error
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
