"""The justification graph as a terminal tree, coloured where the terminal supports it."""

from __future__ import annotations

import textwrap

import click
import networkx as nx

from .graph import ROOT

MARK = {"met": ("✓", "green"), "not_met": ("✗", "red"), "unknown": ("?", "yellow")}


def _line(data: dict) -> str:
    kind = data["kind"]
    if kind == "fact":
        return click.style("· " + data["label"], dim=True)
    mark, colour = MARK.get(data.get("status"), ("•", None))
    text = data["label"]
    if kind == "criterion":
        text = f"{data['label']}  {textwrap.shorten(data['text'], 110, placeholder=' ...')}"
    if kind == "derived":
        return click.style(f"= {text}", fg=colour)
    if data.get("readings"):
        text += click.style(f"  [reading: {', '.join(data['readings'])}]", dim=True)
    return click.style(mark, fg=colour, bold=True) + " " + text


def render_text(g: nx.DiGraph, collapse_met: bool = False) -> str:
    root = g.nodes[ROOT]
    title = root["label"].upper()
    colour = {"medically necessary": "green", "not medically necessary": "red"}.get(root["label"], "yellow")
    lines = [click.style(title, fg=colour, bold=True) + f"  (case {g.graph['case_id']}, {g.graph['policy']})"]

    def walk(node: str, prefix: str) -> None:
        children = list(g.successors(node))
        for i, child in enumerate(children):
            last = i == len(children) - 1
            data = g.nodes[child]
            collapsed = collapse_met and data.get("status") == "met" and data["kind"] in ("criterion", "condition")
            hidden = sum(1 for _ in nx.descendants(g, child)) if collapsed else 0
            suffix = click.style(f"  (+{hidden} met below)", dim=True) if collapsed and hidden else ""
            lines.append(prefix + ("└─ " if last else "├─ ") + _line(data) + suffix)
            if not collapsed:
                walk(child, prefix + ("   " if last else "│  "))

    walk(ROOT, "")
    return "\n".join(lines) + "\n"
