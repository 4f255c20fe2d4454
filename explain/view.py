"""What a picture or a page of the justification graph shows, and how: shared by the Graphviz
renderer and the HTML page, computed from the graph alone (nothing here knows a policy).

- A *box* is a node a reviewer reads: the determination, the request's kind, a section, a
  criterion, a condition. Derived values and case facts are its *evidence*, listed inside it.
- A node is *moot* when it did not matter: not met or unknown under a met parent (a failed
  alternative of a met any-of, a test beyond the number needed), and everything below it.
- The *deciding path* runs from the determination to the criteria that decided it, and on
  through the children that share their status (the failing conditions, the open ones).
- *Folded*: a met criterion or condition shows itself, the criteria below it, and how much
  is folded; the rest below it waits for --expand (pictures) or a click (the page).
"""

from __future__ import annotations

import re
import textwrap

import networkx as nx

from .graph import ROOT

BOXES = ("determination", "request_kind", "section", "criterion", "condition")
FOLDABLE = ("criterion", "condition")
STATUS_WORD = {"met": "met", "not_met": "not met", "unknown": "unknown"}
MARK = {"met": "✓", "not_met": "✗", "unknown": "?"}


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters where it can: breaks at spaces, and a word longer
    than a line (a field path) only after a dot or before a bracket, never inside a name."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if not line:
            candidate = word
        else:
            candidate = f"{line} {word}"
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        pieces = re.split(r"(?<=\.)", word) if len(word) > width else [word]
        for piece in pieces:
            if line and len(line) + len(piece) > width:
                lines.append(line)
                line = piece
            else:
                line += piece
    if line:
        lines.append(line)
    return lines or [text]


def shorten(text: str, width: int) -> str:
    return textwrap.shorten(text, width, placeholder=" …") if len(text) > width else text


class View:
    def __init__(self, g: nx.DiGraph, fold: bool, decided_by: list[str] | None = None):
        self.g = g
        self.fold = fold
        self.moot = self._moot()
        self.deciding = self._deciding(decided_by or [])

    # -- what each node is -------------------------------------------------------------
    def kind(self, node: str) -> str:
        return self.g.nodes[node]["kind"]

    def status(self, node: str) -> str:
        return self.g.nodes[node].get("status", "")

    def look(self, node: str) -> str:
        """The colour a box takes: its status, or moot (grey); grey too for a determination no
        section governs (a request outside the policy)."""
        if node == ROOT and not any(self.kind(c) == "section" for c in self.children(node)):
            return "moot"
        return "moot" if node in self.moot else self.status(node)

    def _moot(self) -> set[str]:
        g, moot = self.g, set()
        for node in nx.topological_sort(g):
            if self.kind(node) not in BOXES or node == ROOT:
                continue
            parents = [p for p in g.predecessors(node) if self.kind(p) in BOXES]
            if any(p in moot for p in parents) or (
                    self.status(node) != "met" and any(self.status(p) == "met" for p in parents)):
                moot.add(node)
        return moot

    def _deciding(self, decided_by: list[str]) -> set[str]:
        g, path = self.g, set()
        for cid in decided_by:
            if cid not in g:
                continue
            path |= {a for a in nx.ancestors(g, cid) if self.kind(a) in BOXES}
            stack = [cid]
            while stack:
                node = stack.pop()
                if node in path and node != cid:
                    continue
                path.add(node)
                stack += [c for c in g.successors(node)
                          if self.kind(c) in BOXES and self.status(c) == self.status(cid) and c not in self.moot]
        return path

    # -- the tree of boxes ---------------------------------------------------------------
    def children(self, node: str) -> list[str]:
        """The boxes under a box, in the graph's order (the policy's, for criteria)."""
        return [c for c in self.g.successors(node) if self.kind(c) in BOXES]

    def folded(self, node: str) -> bool:
        return self.fold and self.foldable(node)

    def foldable(self, node: str) -> bool:
        """A met criterion or condition with something below it to fold."""
        return (self.kind(node) in FOLDABLE and self.status(node) == "met" and node not in self.deciding
                and bool(self.hidden(node)))

    def kept(self, node: str) -> list[str]:
        """The children still shown when the node is folded: criteria (the list a reviewer scans)."""
        return [c for c in self.children(node) if self.kind(c) == "criterion"]

    def hidden(self, node: str) -> set[str]:
        """What folding the node hides: everything below it except the criteria below it and theirs."""
        shown_anyway = set()
        for c in self.children(node):
            if self.kind(c) == "criterion":
                shown_anyway |= {c} | nx.descendants(self.g, c)
        return nx.descendants(self.g, node) - shown_anyway

    def evidence(self, node: str) -> list[tuple[str, str, int]]:
        """The derived values and case facts a box rests on directly, as (kind, text, depth):
        a derived value at depth 0, the facts it was computed from at depth 1."""
        lines = []
        for c in self.g.successors(node):
            data = self.g.nodes[c]
            if data["kind"] == "derived":
                lines.append(("derived", "= " + data["label"], 0))
                lines += [("fact", self.g.nodes[f]["label"], 1) for f in self.g.successors(c)]
            elif data["kind"] == "fact":
                lines.append(("fact", data["label"], 0))
        return lines

    def shown(self, node: str) -> list[str]:
        return self.kept(node) if self.folded(node) else self.children(node)

    def walk(self, node: str = ROOT, reverse: bool = False):
        """The boxes shown, parent before child, as (parent, node); `reverse`: last sibling first."""
        def visit(parent, n):
            yield parent, n
            shown = self.shown(n)
            for c in (reversed(shown) if reverse and parent is not None else shown):
                yield from visit(n, c)
        yield from visit(None, node)

    def title(self, node: str) -> str:
        data = self.g.nodes[node]
        kind = data["kind"]
        if kind == "section":
            return data["label"][:1].upper() + data["label"][1:]
        return data["label"]
