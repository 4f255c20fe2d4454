"""The justification graph of a determination, built from the answer set.

The graph is the program's own evaluated tree (part/2 and status/2 atoms), never a
hand-written tree per criterion: determination -> governing section -> criterion ->
conditions -> derived values (the comparison with its numbers) -> case facts (JSON paths).
Node ids are stable across runs: clause ids, the condition terms' text, `fact:<path>`.
"""

from __future__ import annotations

import networkx as nx

from kbquery.determination import Determination, Tree
from kbquery.solve import solve
from kbquery.symbols import path_text

GRAPH_VERSION = 1
ROOT = "determination"


def _fact_node(g: nx.DiGraph, tree: Tree, path: tuple) -> str:
    nid = f"fact:{path_text(path)}"
    if nid not in g:
        documented = path in tree.present
        value = tree.values.get(path, "documented" if documented else "not documented")
        g.add_node(nid, kind="fact", path=path_text(path), value=value, documented=documented,
                   label=f"{path_text(path)} = {value}" if documented else f"{path_text(path)}: not documented")
    return nid


def _add_node(g: nx.DiGraph, tree: Tree, texts: dict, nid: str) -> None:
    if nid in g:
        return
    kind = "criterion" if nid in texts else "condition"
    g.add_node(nid, kind=kind, status=tree.status.get(nid, "unknown"),
               label=nid if kind == "criterion" else tree.labels.get(nid, nid),
               text=texts.get(nid, ""), readings=tree.readings.get(nid, []))
    for child in tree.parts.get(nid, []):
        _add_node(g, tree, texts, child)
        g.add_edge(nid, child)
    facts = [_fact_node(g, tree, p) for p in tree.reads.get(nid, [])]
    says = tree.says.get(nid, [])
    for i, say in enumerate(says):
        # A derived value: the comparison the rule made, with the facts it was made from.
        did = f"derived:{nid}:{i}"
        g.add_node(did, kind="derived", label=say, status=tree.status.get(nid, "unknown"))
        g.add_edge(nid, did)
        for f in facts:
            g.add_edge(did, f)
    if not says:
        for f in facts:
            g.add_edge(nid, f)


def build(d: Determination) -> nx.DiGraph:
    tree = Tree(solve(d.kb, d.case, d.readings, full=True))
    texts = {c.id: c.text for c in d.criteria}
    g = nx.DiGraph(version=GRAPH_VERSION, case_id=d.case_id, policy=d.policy["id"], kb_digest=d.kb_digest)
    g.add_node(ROOT, kind="determination", label=d.determination.replace("_", " "),
               determination=d.determination, request_kind=d.request_kind,
               status=tree.status.get("decision", "unknown") if d.criteria else "unknown")
    kind = f"kind:{d.request_kind}"
    g.add_node(kind, kind="request_kind", label=f"request: {d.request_kind.replace('_', ' ')}", status="met")
    g.add_edge(ROOT, kind)
    for path in [("request", "code"), ("request", "purpose"), ("prior_procedures",)]:
        if path in tree.present or path == ("request", "code"):
            g.add_edge(kind, _fact_node(g, tree, path))
    for top in tree.parts.get("decision", []):
        section = f"section:{tree.sections[top]}"
        if section not in g:
            g.add_node(section, kind="section", label=f"section {tree.sections[top]}", status="met")
            g.add_edge(ROOT, section)
        _add_node(g, tree, texts, top)
        g.add_edge(section, top)
    # A section's status is the Kleene conjunction of its criteria.
    for node, data in g.nodes(data=True):
        if data["kind"] == "section":
            statuses = {g.nodes[c]["status"] for c in g.successors(node)}
            data["status"] = "not_met" if "not_met" in statuses else "unknown" if "unknown" in statuses else "met"
    return g
