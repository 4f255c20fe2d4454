"""The justification graph as JSON (node-link), DOT, SVG and PNG; the HTML page is in page.py.

The picture reads left to right: the determination, then one band per section with its
criteria top to bottom in the policy's order, then each criterion's conditions with the
derived values and case facts they rest on listed inside them. The deciding path is drawn
bold; alternatives that did not matter are grey; met branches are folded unless asked not to
be. A footer carries the legend and what the text output says besides the tree: what decided
it, what would change it, the missing fields, the readings applied and the warnings.
"""

from __future__ import annotations

import html
import json

import networkx as nx
import pygraphviz

from .graph import GRAPH_VERSION, ROOT
from .view import MARK, STATUS_WORD, View, shorten, wrap

FILL = {"met": "#e6f4e6", "not_met": "#fbe0e0", "unknown": "#fff3cc", "moot": "#f0f0f0"}
BORDER = {"met": "#2e7d32", "not_met": "#c62828", "unknown": "#a07800", "moot": "#a0a0a0"}
INK = {"met": "#1b5e20", "not_met": "#b71c1c", "unknown": "#6d5200", "moot": "#707070"}
FONT = "Helvetica"
SIZE = {"title": 16, "box": 11, "small": 10}  # points; at 100% (96 dpi) nothing is under 10 pt
WIDTH = {"title": 16, "criterion": 40, "condition": 36, "evidence": 40, "footer": 84}  # characters a line


def to_json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(g, edges="edges")
    data["graph"]["version"] = GRAPH_VERSION
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _lines(lines: list[str], size: int | None = None, colour: str | None = None, bold: bool = False,
           italic: bool = False, indent: str = "") -> str:
    """HTML-like label lines, left aligned."""
    out = []
    for line in lines:
        text = _e(indent + line)
        if bold:
            text = f"<B>{text}</B>"
        if italic:
            text = f"<I>{text}</I>"
        attrs = (f' POINT-SIZE="{size}"' if size else "") + (f' COLOR="{colour}"' if colour else "")
        out.append((f"<FONT{attrs}>{text}</FONT>" if attrs else text) + '<BR ALIGN="LEFT"/>')
    return "".join(out)


def box_label(view: View, node: str) -> str:
    g, data = view.g, view.g.nodes[node]
    kind, status, look = data["kind"], data.get("status", ""), view.look(node)
    ink = INK.get(look)
    word = "did not matter (" + STATUS_WORD.get(status, status) + ")" if look == "moot" else STATUS_WORD.get(status, "")
    if kind == "determination":
        lines = _lines(wrap(data["label"].upper(), WIDTH["title"]), SIZE["title"], bold=True)
        lines += _lines([f"case {g.graph['case_id']}", f"policy {g.graph['policy']}"], SIZE["small"])
        return f"<{lines}>"
    if kind == "section":
        mark = MARK.get(status, "")
        return "<" + _lines([view.title(node)], bold=True) + _lines([f"{mark} {word}"], SIZE["small"], ink) + ">"
    if kind == "criterion":
        small, mark = SIZE["small"], MARK.get(status, "")
        head = f'<B>{_e(node)}</B><FONT POINT-SIZE="{small}" COLOR="{ink}">  {mark} {_e(word)}</FONT><BR ALIGN="LEFT"/>'
        body = _lines(wrap(shorten(data["text"], 150), WIDTH["criterion"]))
    else:
        mark = MARK.get(status, "")
        head = f'<FONT COLOR="{ink}"><B>{mark}</B></FONT> '
        text = wrap(data["label"], WIDTH["condition"])
        head += _e(text[0]) + '<BR ALIGN="LEFT"/>'
        body = _lines(text[1:], indent="   ")
    if data.get("readings"):
        body += _lines(wrap("reading: " + ", ".join(data["readings"]), WIDTH["condition"]), SIZE["small"], "#555555",
                       italic=True)
    if view.folded(node):
        body += _lines([f"+{len(view.hidden(node))} below, folded"], SIZE["small"], "#555555", italic=True)
    else:
        for kind_, text, depth in view.evidence(node):
            colour = "#333333" if kind_ == "derived" else "#5f5f5f"
            wrapped = wrap(text, WIDTH["evidence"] - 3 * depth)
            body += _lines(wrapped[:1], SIZE["small"], colour, indent="   " * depth)
            body += _lines(wrapped[1:], SIZE["small"], colour, indent="   " * depth + "   ")
    return f"<{head}{body}>"


def _footer(view: View, summary: dict | None) -> str:
    """The legend and, when the explanation gives them, the lines the text output has besides the tree."""
    cells = []
    for look, word in (("met", "met"), ("not_met", "not met"), ("unknown", "unknown"),
                       ("moot", "did not matter")):
        cells.append(f'<TD BGCOLOR="{FILL[look]}" COLOR="{BORDER[look]}" BORDER="1" STYLE="rounded">'
                     f'<FONT COLOR="{INK[look]}">{MARK.get(look, "–")} {word}</FONT></TD>')
    cells.append('<TD BORDER="3" COLOR="#424242" STYLE="rounded">bold: deciding path</TD>')
    symbols = ('<FONT COLOR="#333333">= derived value</FONT>     <FONT COLOR="#5f5f5f">path = value: a case fact</FONT>'
               '     <I>+N below, folded: a met branch</I>')
    rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="5" CELLPADDING="3"><TR>'
            f'<TD ROWSPAN="2" VALIGN="TOP"><B>Legend</B></TD>{"".join(cells)}</TR>'
            f'<TR><TD COLSPAN="{len(cells)}" ALIGN="LEFT">{symbols}</TD></TR></TABLE></TD></TR>']
    for heading, items in footer_lines(summary or {}):
        text = "".join(_lines(wrap(item, WIDTH["footer"]), SIZE["small"] + 1) for item in items)
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>{_e(heading)}</B><BR ALIGN="LEFT"/>{text}</TD></TR>')
    return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="3">{"".join(rows)}</TABLE>>'


def footer_lines(summary: dict) -> list[tuple[str, list[str]]]:
    """(heading, lines) for what decided it, what would change it, missing fields, readings, warnings."""
    out = []
    if "decided_by" in summary:
        out.append(("Decided by", [shorten(line, 2 * WIDTH["footer"]) for line in summary["decided_by"]]))
    if "would_change_it" in summary:
        out.append((summary.get("would_change_heading", "What would change it"), summary["would_change_it"]))
    if summary.get("missing"):
        out.append(("Missing (documenting these would settle an unknown criterion)", summary["missing"]))
    if summary.get("readings"):
        out.append(("Readings applied", ["; ".join(summary["readings"])]))
    if summary.get("warnings"):
        out.append(("Warnings", summary["warnings"]))
    return out


def to_agraph(g: nx.DiGraph, collapse_met: bool = False, summary: dict | None = None) -> pygraphviz.AGraph:
    view = View(g, collapse_met, (summary or {}).get("decided_ids"))
    a = pygraphviz.AGraph(directed=True, strict=True, rankdir="LR", ordering="out", nodesep="0.12",
                          ranksep="0.3", fontname=FONT, fontsize=str(SIZE["box"]), newrank="true",
                          labelloc="b", labeljust="l", pad="0.2", bgcolor="white")
    a.graph_attr["label"] = _footer(view, summary)
    a.node_attr.update(shape="box", style="rounded,filled", fontname=FONT, fontsize=str(SIZE["box"]),
                       margin="0.1,0.06")
    a.edge_attr.update(arrowsize="0.6", color="#9e9e9e")
    bands: dict[str, list[str]] = {}
    section_of = {ROOT: None}
    for parent, node in view.walk(reverse=True):  # dot stacks LR siblings bottom up
        kind = view.kind(node)
        section_of[node] = node if kind in ("section", "request_kind") else section_of.get(parent)
        look = view.look(node)
        deciding = node in view.deciding
        attrs = dict(label=box_label(view, node), fillcolor=FILL.get(look, "#ffffff"),
                     color=BORDER.get(look, "#616161"), penwidth="2.6" if deciding else "1")
        if kind == "determination":
            attrs.update(penwidth="2.6", margin="0.16,0.1")
        if look == "moot" and kind != "determination":
            attrs["style"] = "rounded,filled,dashed"
            attrs["fontcolor"] = INK["moot"]
        a.add_node(node, **attrs)
        if section_of[node]:
            bands.setdefault(section_of[node], []).append(node)
        if parent is not None:
            edge = dict(color=BORDER.get(look, "#9e9e9e") if deciding and parent in view.deciding else "#9e9e9e",
                        penwidth="2.6" if deciding and parent in view.deciding else "1")
            if look == "moot":
                edge["style"] = "dashed"
            a.add_edge(parent, node, **edge)
    for i, (section, nodes) in enumerate(bands.items()):  # one band per section, in the graph's order
        a.add_subgraph(nodes, name=f"cluster_{i}", style="rounded,filled", fillcolor="#fafafa", color="#e0e0e0",
                       label="")
    return a


def to_dot(g: nx.DiGraph, collapse_met: bool = False, summary: dict | None = None) -> str:
    return to_agraph(g, collapse_met, summary).string()


def to_image(g: nx.DiGraph, fmt: str, collapse_met: bool = False, summary: dict | None = None) -> bytes:
    return to_agraph(g, collapse_met, summary).draw(format=fmt, prog="dot")


def to_html(g: nx.DiGraph, collapse_met: bool = True, summary: dict | None = None) -> str:
    from .page import page
    return page(g, collapse_met, summary or {})
