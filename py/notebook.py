"""Notebook helpers: cases to vary, decide in bulk, sweep and display.

No policy knowledge lives here: thresholds, clauses and options are read from the knowledge base.

    >>> from kbquery.notebook import Case, sweep
    >>> case = Case.load("examples/therapy-too-short.json")
    >>> case.decide().determination
    'not_medically_necessary'
    >>> longer = case.with_({"conservative_therapy.start_date": "2025-10-01"}, pain__radiculopathy=False)
    >>> longer.decide().determination
    'medically_necessary'
    >>> grid = sweep(case, "pain.radiculopathy", [True, False],
    ...              "conservative_therapy.start_date", ["2025-11-01", "2025-10-01"])
    >>> grid.outcomes
    [['not_medically_necessary', 'not_medically_necessary'], ['not_medically_necessary', 'medically_necessary']]

A Determination displays itself in Jupyter as a table of its criteria (``criteria_html``);
``graph(...)`` shows the justification graph at a readable size.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import decide as _decide
from . import decide_many as _decide_many
from . import knowledge_base
from .case import case_document
from .determination import Determination

STATUS_WORD = {"met": "met", "not_met": "not met", "unknown": "unknown"}
STATUS_FILL = {"met": "#d9f2d9", "not_met": "#f8d0d0", "unknown": "#fff1c2"}  # as explain/render.py
STATUS_INK = {"met": "#2e7d32", "not_met": "#c62828", "unknown": "#b28704"}
# Determinations are the spec's (shared/spec/determination.md), not the policy's.
OUTCOME_COLOUR = {"medically_necessary": "#66bb6a", "case_by_case_review": "#64b5f6",
                  "more_information_needed": "#ffd54f", "not_medically_necessary": "#ef5350",
                  "not_addressed": "#bdbdbd"}
TEXT_CHARS = 110


# ---------------------------------------------------------------------------- cases

def _keys(path: str) -> list[str | int]:
    """``"a.b.0.c"``, ``"a.b[0].c"`` or ``"a__b__0__c"`` as keys: ``['a', 'b', 0, 'c']``."""
    parts = re.sub(r"\[(\d+)\]", r".\1", path.replace("__", ".")).split(".")
    return [int(p) if p.isdigit() else p for p in parts]


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def shift(date: str | dt.date, days: int = 0, months: int = 0) -> str:
    """An ISO date moved by days and calendar months (the day clamped to the month's end).

    >>> shift("2026-03-31", months=-1), shift("2026-03-02", days=-27)
    ('2026-02-28', '2026-02-03')
    """
    d = dt.date.fromisoformat(str(date))
    month = d.year * 12 + d.month - 1 + months
    year, month = divmod(month, 12)
    last = (dt.date(year + (month == 11), (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)).day
    return (dt.date(year, month + 1, min(d.day, last)) + dt.timedelta(days=days)).isoformat()


class Case:
    """A case dict that is never changed in place: ``with_`` returns a new Case.

    >>> c = Case({"case_id": "x", "request": {"date": "2026-03-02", "code": "27096"}})
    >>> c.with_(pain__score=7)["pain.score"], c.get("pain.score")
    (7, None)
    """

    def __init__(self, data: Mapping, name: str | None = None, readings: dict[str, str] | None = None):
        case, own, _ = case_document(dict(data))  # a bare case, or a suite case file holding one
        self.data = copy.deepcopy(dict(case))
        self.readings = {**(own or {}), **(readings or {})}  # a suite case file's own, kept with its case
        self.name = name or self.data.get("case_id", "case")

    @classmethod
    def load(cls, path: str | Path) -> Case:
        """A case from a JSON file (a bare case, or a suite case file holding one under "case", whose
        readings then apply to it)."""
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path, or default when absent."""
        node = self.data
        for key in _keys(path):
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return default
        return node

    def __getitem__(self, path: str) -> Any:
        missing = object()
        value = self.get(path, missing)
        if value is missing:
            raise KeyError(path)
        return value

    def with_(self, changes: Mapping[str, Any] | None = None, /, **kw: Any) -> Case:
        """A copy with fields set; ``None`` removes a field. Objects are created as needed.

        Paths are dotted (``"pain.score"``, ``"prior_procedures.0.pain.before"`` or
        ``"prior_procedures[0].pain.before"``), or keyword-safe with ``__`` for dots
        (``pain__score=7``). Dates may be ``datetime.date``. A list index one past the end appends.
        """
        data = copy.deepcopy(self.data)
        for path, value in {**(changes or {}), **kw}.items():
            _set(data, _keys(path), _json(value), path)
        return Case(data, self.name, self.readings)

    def apply(self, counterfactual) -> Case:
        """The case with a counterfactual's changes made (``explain(d).counterfactuals[i]``)."""
        return Case(counterfactual.apply(self.data), self.name, self.readings)

    def decide(self, readings: dict[str, str] | None = None) -> Determination:
        """``kbquery.decide`` on this case (under its file's readings, each of `readings` replacing one)."""
        return _decide(self.data, readings={**self.readings, **(readings or {})})

    def explain(self, readings: dict[str, str] | None = None, collapse_met: bool = False):
        """The Explanation (graph, text, counterfactuals) of this case's determination."""
        from .explain import explain
        return explain(self.decide(readings), collapse_met)

    def json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Case) and self.data == other.data

    def __repr__(self) -> str:
        return f"Case({self.name!r})"


def _set(data: Any, keys: list, value: Any, path: str) -> None:
    node = data
    for key in keys[:-1]:
        if isinstance(node, dict) and isinstance(key, str):
            node = node.setdefault(key, {}) if value is not None else node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            node = None
        if node is None:
            return  # removing under an absent parent: nothing to remove
    last = keys[-1]
    in_list = isinstance(node, list) and isinstance(last, int) and last <= len(node)
    if not in_list and not (isinstance(node, dict) and isinstance(last, str)):
        raise KeyError(f"{path}: no such place in the case")
    if value is not None and in_list and last == len(node):
        node.append(value)
    elif value is not None:
        node[last] = value
    elif in_list and last < len(node):
        del node[last]
    elif not in_list:
        node.pop(last, None)


def _case(item: Case | Mapping) -> Case:
    return item if isinstance(item, Case) else Case(item)


# ---------------------------------------------------------------------------- many cases

def thresholds(policy: str | None = None) -> dict[str, int]:
    """The rules' thresholds (``threshold/2`` facts of the knowledge base), by name.

    >>> thresholds()["therapy_days"]
    28
    """
    kb = knowledge_base(policy) if policy else knowledge_base()
    return {name.name: value.number for name, value in kb.static("threshold", 2)}


@dataclass
class Table:
    """Named determinations; a list of (name, Determination) that displays as one table."""

    names: list[str]
    determinations: list[Determination]

    def __iter__(self):
        return iter(zip(self.names, self.determinations))

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key: int | str) -> Determination:
        return self.determinations[self.names.index(key) if isinstance(key, str) else key]

    def rows(self) -> list[dict]:
        return [{"name": n, "determination": d.determination, "request_kind": d.request_kind,
                 "unmet": d.unmet, "missing": sorted({p for ps in d.missing.values() for p in ps})}
                for n, d in self]

    def _repr_html_(self) -> str:
        head = _tr([_cell(h, header=True) for h in ("case", "determination", "request", "unmet", "missing")])
        body = "".join(_tr([_cell(html.escape(r["name"])), _cell(_outcome_badge(r["determination"])),
                            _cell(_words(r["request_kind"]), "white-space:nowrap"), _cell(", ".join(r["unmet"])),
                            _cell(", ".join(r["missing"]))]) for r in self.rows())
        return f'<table class="kbq-table" style="{_TABLE}">{head}{body}</table>'


def decide_many(cases: Iterable | Mapping, readings: dict[str, str] | None = None) -> Table:
    """Decide several cases: a list of Case/dicts, or variants as {name: Case}.

    >>> base = Case.load("examples/initial-diagnostic.json")
    >>> t = decide_many({"as is": base, "no tests": base.with_(provocation_tests=None)})
    >>> [d.determination for _, d in t]
    ['medically_necessary', 'more_information_needed']
    """
    items = list(cases.items()) if isinstance(cases, Mapping) else [(None, c) for c in cases]
    named = [(name or _case(c).name, _case(c)) for name, c in items]
    return Table([n for n, _ in named], _decided([c for _, c in named], readings))


def _decided(cases: list[Case], readings: dict[str, str] | None) -> list[Determination]:
    """The cases decided together (kbquery.decide_many); the first that cannot be raises its error."""
    groups: dict[tuple, list[int]] = {}  # one decide_many per set of readings (a suite file may bring its own)
    for i, c in enumerate(cases):
        groups.setdefault(tuple(sorted({**c.readings, **(readings or {})}.items())), []).append(i)
    results: list = [None] * len(cases)
    for chosen, members in groups.items():
        for i, result in zip(members, _decide_many([cases[i].data for i in members], readings=dict(chosen))):
            results[i] = result
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


Axis = str | Callable[[Case, Any], Case]


def _vary(case: Case, axis: Axis, value: Any) -> Case:
    return axis(case, value) if callable(axis) else case.with_({axis: value})


def _axis_label(axis: Axis) -> str:
    if isinstance(axis, str):
        return axis
    doc = (axis.__doc__ or "").strip().splitlines()
    return doc[0] if doc else "value" if axis.__name__ == "<lambda>" else _words(axis.__name__)


@dataclass
class Grid:
    """Determinations over two varied inputs: ``determinations[i][j]`` at ``y_values[i]``, ``x_values[j]``."""

    x_label: str
    x_values: list
    y_label: str
    y_values: list
    determinations: list[list[Determination]]

    @property
    def outcomes(self) -> list[list[str]]:
        return [[d.determination for d in row] for row in self.determinations]

    def at(self, x: Any, y: Any) -> Determination:
        return self.determinations[self.y_values.index(y)][self.x_values.index(x)]

    def plot(self, ax=None, annotate: bool = True, title: str | None = None, legend: bool = True):
        """The grid as coloured cells (one colour per determination) with a legend; returns the axes.

        Each cell is annotated with what decided it: the unmet criteria, or the unknown ones.
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        if ax is None:
            _, ax = plt.subplots(figsize=(1.0 + 0.7 * len(self.x_values), 1.0 + 0.5 * len(self.y_values)))
        seen = sorted({o for row in self.outcomes for o in row}, key=list(OUTCOME_COLOUR).index)
        codes = [[seen.index(o) for o in row] for row in self.outcomes]
        cmap = ListedColormap([OUTCOME_COLOUR.get(o, "#9e9e9e") for o in seen])
        ax.pcolormesh(_edges(self.x_values), _edges(self.y_values), codes, cmap=cmap, vmin=-0.5,
                      vmax=len(seen) - 0.5, edgecolors="white", linewidth=0.5)
        if annotate:
            for i, y in enumerate(self.y_values):
                for j, x in enumerate(self.x_values):
                    ax.text(x, y, _decided_by(self.determinations[i][j]), ha="center", va="center", fontsize=8)
        ax.set_xlabel(self.x_label)
        ax.set_ylabel(self.y_label)
        if title:
            ax.set_title(title)
        if legend:
            ax.legend(handles=[Patch(color=OUTCOME_COLOUR.get(o, "#9e9e9e"), label=_words(o)) for o in seen],
                      loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, title="determination")
        return ax

    def mark(self, ax, axis: str, at_least: float, label: str) -> None:
        """Draw a threshold "at least ``at_least``" on the x or y axis, as a labelled dashed line
        on the cell edge between the values below it and those at or above it."""
        values = self.x_values if axis == "x" else self.y_values
        edges = _edges(values)
        cut = next((e for v, e in zip(values, edges) if float(v) >= at_least), edges[-1])
        box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5}
        if axis == "x":
            ax.axvline(cut, color="#212121", linestyle="--", linewidth=1.5)
            ax.text(cut, ax.get_ylim()[1], f" {label}", rotation=90, ha="right", va="top",
                    fontsize=8, bbox=box)
        else:
            ax.axhline(cut, color="#212121", linestyle="--", linewidth=1.5)
            ax.text(ax.get_xlim()[1], cut, f"{label} ", ha="right", va="bottom", fontsize=8, bbox=box)


def _edges(values: list) -> list[float]:
    """Cell edges halfway between numeric values."""
    v = [float(x) for x in values]
    if len(v) == 1:
        return [v[0] - 0.5, v[0] + 0.5]
    mids = [(a + b) / 2 for a, b in itertools.pairwise(v)]
    return [v[0] - (mids[0] - v[0]), *mids, v[-1] + (v[-1] - mids[-1])]


def _decided_by(d: Determination) -> str:
    ids = d.unmet or list(d.missing)
    return "\n".join(", ".join(ids[i:i + 2]) for i in range(0, len(ids), 2))


def sweep(case: Case | Mapping, x: Axis, x_values: Iterable, y: Axis, y_values: Iterable,
          readings: dict[str, str] | None = None) -> Grid:
    """Decide the case for every pair of values of two inputs.

    An axis is a dotted path, or a function ``(case, value) -> case`` for inputs that are not
    one field (its docstring, or else its name, labels the axis). Numeric values plot best.

    >>> g = sweep(Case.load("examples/therapy-too-short.json"), "pain.score", [3, 8],
    ...           lambda c, n: c.with_(conservative_therapy__start_date=shift("2025-11-20", days=1 - n)), [20, 28])
    >>> g.outcomes[1]
    ['more_information_needed', 'more_information_needed']
    """
    base, xs, ys = _case(case), list(x_values), list(y_values)
    decided = iter(_decided([_vary(_vary(base, x, xv), y, yv) for yv in ys for xv in xs], readings))
    rows = [[next(decided) for _ in xs] for _ in ys]
    return Grid(_axis_label(x), xs, _axis_label(y), ys, rows)


# ---------------------------------------------------------------------------- display

_TABLE = "border-collapse:collapse;font-size:0.85em;margin:0.3em 0"
_CELL = "text-align:left;vertical-align:top;padding:2px 8px;border-bottom:1px solid #e0e0e0"


def _words(name: str) -> str:
    return name.replace("_", " ")


def _cell(content: str, style: str = "", header: bool = False, title: str | None = None) -> str:
    tag = "th" if header else "td"
    tip = f' title="{html.escape(title)}"' if title else ""
    return f'<{tag} style="{_CELL};{style}"{tip}>{content}</{tag}>'


def _tr(cells: list[str], cls: str = "") -> str:
    return f'<tr class="{cls}">' + "".join(cells) + "</tr>" if cls else "<tr>" + "".join(cells) + "</tr>"


def _badge(word: str, fill: str, ink: str) -> str:
    return (f'<span style="background:{fill};color:{ink};border:1px solid {ink};border-radius:3px;'
            f'padding:0 5px;white-space:nowrap;font-weight:bold">{html.escape(word)}</span>')


def _outcome_badge(outcome: str) -> str:
    return _badge(_words(outcome).upper(), OUTCOME_COLOUR.get(outcome, "#eeeeee"), "#212121")


def _short(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS - 1].rstrip() + "…"


def criteria_html(d: Determination) -> str:
    """The determination and its criteria as a compact HTML table, rows classed ``kbq-met``,
    ``kbq-not_met``, ``kbq-unknown``; reasons of unmet criteria and missing fields shown."""
    head = (f'<div style="margin:0.2em 0">{_outcome_badge(d.determination)} &nbsp;'
            f'{html.escape(_words(d.request_kind))} &middot; case {html.escape(d.case_id)} &middot; '
            f'{html.escape(d.policy["id"])} ({html.escape(d.policy["revision"])})</div>')
    rows = [_tr([_cell(h, header=True) for h in ("criterion", "status", "policy text", "why / what is missing")])]
    for c in d.criteria:
        why = [html.escape(("not met: " if c.status == "unknown" else "") + r) for r in c.reasons]
        why += [f"missing: <code>{html.escape(p)}</code>" for p in d.missing.get(c.id, [])]
        status = _badge(STATUS_WORD[c.status], STATUS_FILL[c.status], STATUS_INK[c.status])
        rows.append(_tr([_cell(f"<b>{html.escape(c.id)}</b>", "white-space:nowrap"), _cell(status),
                         _cell(html.escape(_short(c.text)), title=c.text), _cell("<br>".join(why))],
                        f"kbq-{c.status}"))
    notes = [f"&#9888; {html.escape(w['clause'])}: {html.escape(w['text'])}" for w in d.warnings]
    if d.interpretation:
        notes.append("readings applied: " + ", ".join(_reading(r) for r in d.interpretation))
    foot = "".join(f'<div style="font-size:0.8em;color:#616161">{n}</div>' for n in notes)
    return f'<div class="kbq-determination">{head}<table style="{_TABLE}">{"".join(rows)}</table>{foot}</div>'


def _reading(r: dict) -> str:
    tip = html.escape(f"{r['clause']}: {r['meaning']}")
    return f'<span title="{tip}">{html.escape(r["id"])}={html.escape(r["reading"])}</span>'


class Rows(list):
    """A list of dicts that displays as an HTML table (the keys of the first row as columns).

    >>> Rows([{"check": "gap", "subject": "third_diagnostic"}])[0]["check"]
    'gap'
    """

    def _repr_html_(self) -> str:
        columns = list(self[0]) if self else []
        head = _tr([_cell(html.escape(str(c)), header=True) for c in columns])
        body = "".join(_tr([_cell(html.escape(str(r.get(c, "")))) for c in columns]) for r in self)
        return f'<table style="{_TABLE}">{head}{body}</table>'


class Graph:
    """The justification graph at its natural size, scrolling inside the cell (Jupyter would
    otherwise shrink a wide SVG to the cell's width, past reading)."""

    def __init__(self, explanation, max_height: str = "75vh"):
        self.explanation, self.max_height = explanation, max_height

    def svg(self) -> str:
        svg = self.explanation.render("svg").decode("utf-8")
        return svg[svg.index("<svg"):]

    def _repr_html_(self) -> str:
        svg = self.svg().replace("<svg", '<svg class="jp-mod-unconfined" style="max-width:none"', 1)
        frame = f"overflow:auto;max-height:{self.max_height};border:1px solid #e0e0e0"
        return f'<div class="kbq-graph" style="{frame}">{svg}</div>'


def graph(of, collapse_met: bool = True, readings: dict[str, str] | None = None) -> Graph:
    """The graph of a Case, Determination or Explanation; met branches folded unless asked.

    >>> graph(Case.load("examples/therapy-too-short.json"))  # doctest: +SKIP
    """
    from .explain import Explanation, explain

    if isinstance(of, Explanation):
        return Graph(explain(of.determination, collapse_met))
    d = of if isinstance(of, Determination) else _case(of).decide(readings)
    return Graph(explain(d, collapse_met))


__all__ = ["Case", "Graph", "Grid", "Rows", "Table", "criteria_html", "decide_many", "graph", "shift", "sweep",
           "thresholds"]
