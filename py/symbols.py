"""The shared vocabulary between case JSON and clingo symbols.

Case values become symbols only here, through clingo's API, never as program text:
strings from a closed vocabulary (a schema enum) become names, other strings become
string symbols, integers numbers, booleans the names ``true``/``false``, and dates
``date(Day)`` with ``Day`` a day number. Paths are tuples of keys and list indices.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import clingo

_NAME = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_EPOCH = dt.date(1970, 1, 1).toordinal()

Path = tuple  # of str keys and int list indices


def day_number(iso: str) -> int:
    return dt.date.fromisoformat(iso).toordinal() - _EPOCH


def iso_date(day: int) -> str:
    return dt.date.fromordinal(day + _EPOCH).isoformat()


def is_name(text: str) -> bool:
    return bool(_NAME.match(text))


@functools.lru_cache(maxsize=8192)  # a batch meets the same few hundred paths in every case
def path_symbol(path: Path) -> clingo.Symbol:
    return clingo.Tuple_([clingo.Number(p) if isinstance(p, int) else clingo.Function(p) for p in path])


def path_text(path: Path) -> str:
    """`prior_procedures[0].pain.before`, the dotted form the output uses."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def text_path(text: str) -> Path:
    """`prior_procedures[0].pain.before` back to ('prior_procedures', 0, 'pain', 'before')."""
    return tuple(int(i) if i else key for i, key in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text))


@functools.lru_cache(maxsize=8192)  # read back from every answer: the same paths again and again
def symbol_path(sym: clingo.Symbol) -> Path:
    return tuple(a.number if a.type == clingo.SymbolType.Number else a.name for a in sym.arguments)


@functools.lru_cache(maxsize=8192)  # as paths: a batch's cases share most of their dates and values
def date_symbol(iso: str) -> clingo.Symbol:
    return clingo.Function("date", [clingo.Number(day_number(iso))])


@functools.lru_cache(maxsize=8192, typed=True)  # typed: True and 1 are different values here
def scalar_symbol(value, *, closed: bool) -> clingo.Symbol:
    """A JSON scalar as a symbol; ``closed`` strings come from a schema enum."""
    if isinstance(value, bool):
        return clingo.Function("true" if value else "false")
    if isinstance(value, float) and value.is_integer():  # JSON Schema counts 7.0 as an integer
        value = int(value)
    if isinstance(value, int):
        return clingo.Number(value)
    if closed and is_name(value):
        return clingo.Function(value)
    return clingo.String(value)


def json_value(sym: clingo.Symbol):
    """A value symbol back as the JSON value a case would hold."""
    if sym.match("true", 0) or sym.match("false", 0):
        return sym.name == "true"
    return to_python(sym)


def to_python(sym: clingo.Symbol):
    """A symbol read back from a model, for output: dates as ISO text, paths dotted, tuples as lists."""
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function:
        if sym.name == "date" and len(sym.arguments) == 1:
            return iso_date(sym.arguments[0].number)
        if sym.name == "":
            return [to_python(a) for a in sym.arguments]
        if not sym.arguments:
            return sym.name
    return str(sym)
