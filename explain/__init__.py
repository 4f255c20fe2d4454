"""The explanation layer: justification graphs built from the answer set, and their renderers.

    >>> from kbquery import decide
    >>> from kbquery.explain import explain
    >>> e = explain(decide(case))
    >>> print(e.text())          # the tree, with why not and what would change it
    >>> e.write("out.svg")       # or .png, .dot, .json, .html (the whole explanation as one page)
    >>> explain(d, collapse_met=False).write("all.png")   # met branches unfolded in the picture too

Pictures and the page fold met branches unless `collapse_met=False`; the text tree folds them
only with `collapse_met=True`. What they draw is computed from the graph alone (view.py).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from kbquery import formats
from kbquery.determination import Determination

from . import render
from .counterfactual import Counterfactual, apply, counterfactuals
from .graph import GRAPH_VERSION, build
from .text import render_text

FORMATS = ("text", "json", "dot", "svg", "png", "html")
WOULD_CHANGE = "What would change it (documenting before changing, then fewest fields; each alternative alone suffices)"
NOTHING_CHANGES = "No change of the documented facts within the criteria's reach makes it favourable."


class Explanation:
    """A determination with its justification graph; displays itself in Jupyter."""

    def __init__(self, determination: Determination, collapse_met: bool | None = None):
        """`collapse_met`: True folds the met branches everywhere, False unfolds them everywhere;
        None (the default) folds them in pictures and the HTML page, not in the text tree."""
        self.determination = determination
        self.graph = build(determination)
        self.collapse_met = collapse_met

    def folds(self, fmt: str) -> bool:
        """Whether met branches start folded in this format."""
        return self.collapse_met if self.collapse_met is not None else fmt != "text"

    @functools.cached_property
    def counterfactuals(self) -> list[Counterfactual]:
        return counterfactuals(self.determination)

    def why_not(self) -> dict:
        """The criteria that decided an unfavourable determination, and what would change it."""
        d = self.determination
        decided_by = d.unmet if d.determination == "not_medically_necessary" else sorted(d.missing)
        return {
            "decided_by": decided_by,
            "would_change_it": [
                {"determination": cf.determination,
                 "changes": [{"path": c.path, "value": c.value, "was": c.was} for c in cf.changes]}
                for cf in self.counterfactuals
            ],
        }

    def summary(self) -> dict:
        """What the text output says besides the tree, as lines for a picture's footer or a page:
        decided by, what would change it, missing fields, readings applied, warnings."""
        d, why = self.determination, self.why_not()
        words = {c.id: c for c in d.criteria}
        out = {"decided_ids": why["decided_by"]}
        if why["decided_by"]:
            out["decided_by"] = [f"{cid} ({words[cid].status.replace('_', ' ')}): {words[cid].text}"
                                 if cid in words else cid for cid in why["decided_by"]]
        elif d.governing_sections:
            out["decided_by"] = [f"every criterion of the governing sections ({', '.join(d.governing_sections)}) "
                                 f"is met: {d.determination.replace('_', ' ')}"]
        else:
            out["decided_by"] = [f"no section of {d.policy['id']} governs this request "
                                 f"(request: {d.request_kind.replace('_', ' ')}): {d.determination.replace('_', ' ')}"]
        if why["would_change_it"]:
            out["would_change_heading"] = WOULD_CHANGE
            out["would_change_it"] = [f"{i}. " + "; ".join(map(str, alt.changes))
                                      + f"  => {alt.determination.replace('_', ' ')}"
                                      for i, alt in enumerate(self.counterfactuals, 1)]
        elif why["decided_by"]:
            out["would_change_it"] = [NOTHING_CHANGES]
        out["missing"] = [f"{cid}: {', '.join(paths)}" for cid, paths in d.missing.items()]
        out["readings"] = [f"{r['id']} = {r['reading']} ({r['clause']})" for r in d.interpretation]
        out["warnings"] = [f"{w['clause']}: {w['text']}" for w in d.warnings]
        return out

    def page_summary(self) -> dict:
        """The summary with the whole determination (criteria, reasons, readings' meanings), for the page."""
        return {**self.summary(), "determination": self.determination.to_dict(), "why_not": self.why_not()}

    def text(self) -> str:
        out = render_text(self.graph, bool(self.collapse_met))
        why = self.why_not()
        if why["decided_by"]:
            out += f"\nDecided by: {', '.join(why['decided_by'])}\n"
        if why["would_change_it"]:
            out += WOULD_CHANGE + ":\n"
            for i, alt in enumerate(self.counterfactuals, 1):
                out += f"  {i}. " + "; ".join(map(str, alt.changes)) + f"  => {alt.determination.replace('_', ' ')}\n"
        elif why["decided_by"]:
            out += NOTHING_CHANGES + "\n"
        return out

    def to_json(self) -> str:
        data = json.loads(render.to_json(self.graph))
        data["why_not"] = self.why_not()
        data["determination"] = self.determination.to_dict()
        return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)

    def render(self, fmt: str) -> bytes:
        if fmt == "text":
            return self.text().encode()
        if fmt == "json":
            return self.to_json().encode()
        if fmt == "dot":
            return render.to_dot(self.graph, self.folds(fmt), self.summary()).encode()
        if fmt == "html":
            return render.to_html(self.graph, self.folds(fmt), self.page_summary()).encode()
        if fmt in ("svg", "png"):
            return render.to_image(self.graph, fmt, self.folds(fmt), self.summary())
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")

    def write(self, path: str | Path, fmt: str | None = None) -> None:
        """Write the explanation into a file, in the format its extension names (.txt, .json, .dot,
        .svg, .png, .html); a `fmt` given must agree with the extension. Written whole or not at all."""
        fmt = formats.choose(path, fmt)
        data = self.render(fmt)
        if fmt == "text":  # a file holds no terminal colours
            data = click.unstyle(data.decode()).encode()
        formats.write_whole(path, data)

    def _repr_svg_(self) -> str:
        return self.render("svg").decode()

    def _repr_html_(self) -> str:
        page = self.render("html").decode()
        style = page[page.index("<style>"): page.index("</style>") + 8]
        return style + page[page.index("<body>") + 6: page.index("</body>")]


def explain(determination: Determination, collapse_met: bool | None = None) -> Explanation:
    return Explanation(determination, collapse_met)


__all__ = ["FORMATS", "GRAPH_VERSION", "Counterfactual", "Explanation", "apply", "explain"]
