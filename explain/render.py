"""The justification graph as JSON (node-link), DOT, SVG, PNG and a self-contained HTML page."""

from __future__ import annotations

import html
import json
import textwrap

import networkx as nx
import pygraphviz

from .graph import GRAPH_VERSION, ROOT

FILL = {"met": "#d9f2d9", "not_met": "#f8d0d0", "unknown": "#fff1c2"}
BORDER = {"met": "#2e7d32", "not_met": "#c62828", "unknown": "#b28704"}
STATUS_WORD = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def to_json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(g, edges="edges")
    data["graph"]["version"] = GRAPH_VERSION
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)


def _wrap(text: str, width: int = 48) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _visible(g: nx.DiGraph, collapse_met: bool) -> nx.DiGraph:
    """The graph without what lies below met criteria and conditions, when asked to collapse."""
    if not collapse_met:
        return g
    hidden = set()
    for node, data in g.nodes(data=True):
        if data.get("status") == "met" and data["kind"] in ("criterion", "condition"):
            hidden |= nx.descendants(g, node)
    keep = [n for n in g if n not in hidden or g.nodes[n]["kind"] in ("section", "criterion")]
    return g.subgraph(keep)


def to_agraph(g: nx.DiGraph, collapse_met: bool = False) -> pygraphviz.AGraph:
    g = _visible(g, collapse_met)
    a = pygraphviz.AGraph(directed=True, strict=True, rankdir="TB", nodesep="0.25", ranksep="0.45",
                          fontname="Helvetica", label=f"case {g.graph['case_id']} - {g.graph['policy']}",
                          labelloc="t")
    a.node_attr.update(shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.12,0.06")
    for node in sorted(g, key=str):  # sorted: the same graph gives the same file
        data = g.nodes[node]
        status = data.get("status")
        if data["kind"] == "fact":
            a.add_node(node, label=_wrap(data["label"], 40), shape="note", fillcolor="#f4f4f4", color="#9e9e9e")
            continue
        if data["kind"] == "criterion":
            label = f"{data['label']} ({STATUS_WORD[status]})\n{_wrap(data['text'], 56)}"
        elif data["kind"] == "determination":
            label = data["label"].upper()
        else:
            label = _wrap(data["label"])
        a.add_node(node, label=label, fillcolor=FILL.get(status, "#ffffff"), color=BORDER.get(status, "#616161"),
                   penwidth="2" if data["kind"] in ("determination", "criterion") else "1",
                   shape="ellipse" if data["kind"] == "derived" else "box")
    for u, v in sorted(g.edges(), key=str):
        a.add_edge(u, v)
    a.get_node(ROOT).attr.update(fontsize="14", shape="box", style="filled,bold")
    return a


def to_dot(g: nx.DiGraph, collapse_met: bool = False) -> str:
    return to_agraph(g, collapse_met).string()


def to_image(g: nx.DiGraph, fmt: str, collapse_met: bool = False) -> bytes:
    return to_agraph(g, collapse_met).draw(format=fmt, prog="dot")


def _tree_html(g: nx.DiGraph, node: str, collapse_met: bool) -> str:
    data = g.nodes[node]
    status = data.get("status", "")
    text = html.escape(data["label"])
    if data["kind"] == "criterion":
        text = f"<b>{text}</b> {html.escape(data['text'])}"
    badge = f'<span class="st {status}">{STATUS_WORD.get(status, "")}</span> ' if data["kind"] != "fact" else ""
    children = list(g.successors(node))
    if not children:
        return f'<li class="{data["kind"]}">{badge}{text}</li>'
    is_open = "" if collapse_met and status == "met" and node != ROOT else " open"
    inner = "".join(_tree_html(g, c, collapse_met) for c in children)
    return f'<li class="{data["kind"]}"><details{is_open}><summary>{badge}{text}</summary><ul>{inner}</ul></details></li>'


def to_html(g: nx.DiGraph, collapse_met: bool = True) -> str:
    svg = to_image(g, "svg", collapse_met).decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype inside the page
    title = html.escape(f"{g.nodes[ROOT]['label']} - case {g.graph['case_id']}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #212121; }}
ul {{ list-style: none; padding-left: 1.3em; }} summary {{ cursor: pointer; }}
.st {{ font-size: 0.8em; padding: 0 0.4em; border-radius: 0.3em; }}
.st.met {{ background: {FILL['met']}; color: {BORDER['met']}; }}
.st.not_met {{ background: {FILL['not_met']}; color: {BORDER['not_met']}; }}
.st.unknown {{ background: {FILL['unknown']}; color: {BORDER['unknown']}; }}
li.fact {{ color: #616161; font-family: monospace; }} li.derived {{ font-style: italic; }}
.graph {{ overflow: auto; border: 1px solid #e0e0e0; margin-top: 1em; }}
</style></head><body>
<h1>{title}</h1>
<p>Policy {html.escape(g.graph['policy'])}; knowledge base {html.escape(g.graph['kb_digest'])}.
Met branches start folded; open any line to see why.</p>
<ul class="tree">{_tree_html(g, ROOT, collapse_met)}</ul>
<div class="graph">{svg}</div>
</body></html>
"""
