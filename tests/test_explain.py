"""Justification graphs: golden files, structure, why-not and counterfactuals, renderers."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

from conftest import CASES, HERE, case_files, load_case_file
from kbquery import CaseError, decide
from kbquery.cli import main
from kbquery.explain import GRAPH_VERSION, apply, explain

GOLDEN = HERE / "golden"
GOLDEN_CASES = sorted(GOLDEN.glob("*.case.json"))


def stable_graph_json(e) -> dict:
    """The node-link graph without the rules' digest, which changes with every edit of kb/."""
    data = json.loads(e.to_json())
    data["graph"].pop("kb_digest")
    data["determination"].pop("kb_digest")
    return data


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=[p.name.split(".")[0] for p in GOLDEN_CASES])
def test_golden_graph_and_tree(path, update_golden):
    e = explain(decide(json.loads(path.read_text())))
    graph_file = path.with_name(path.name.replace(".case.json", ".graph.json"))
    tree_file = path.with_name(path.name.replace(".case.json", ".tree.txt"))
    graph, tree = stable_graph_json(e), click.unstyle(e.text())
    if update_golden:
        graph_file.write_text(json.dumps(graph, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        tree_file.write_text(tree)
    assert graph == json.loads(graph_file.read_text())
    assert tree == tree_file.read_text()


def test_golden_cases_cover_every_determination():
    determinations = {decide(json.loads(p.read_text())).determination for p in GOLDEN_CASES}
    assert determinations == {"medically_necessary", "not_medically_necessary", "more_information_needed",
                              "case_by_case_review", "not_addressed"}


ALL = [load_case_file(p)["case"] for p in case_files()] + [json.loads(p.read_text()) for p in GOLDEN_CASES]


@pytest.fixture(scope="module")
def explanations():
    return [explain(decide(c)) for c in ALL]


def test_every_listed_criterion_has_a_node_with_its_status_and_words(explanations):
    for e in explanations:
        for c in e.determination.criteria:
            node = e.graph.nodes[c.id]
            assert (node["kind"], node["status"], node["text"]) == ("criterion", c.status, c.text)


def test_every_not_met_node_has_its_failing_condition_as_a_child(explanations):
    for e in explanations:
        g = e.graph
        for node, data in g.nodes(data=True):
            if data["kind"] in ("criterion", "condition", "section") and data["status"] == "not_met":
                children = [g.nodes[c] for c in g.successors(node)]
                assert any(c.get("status") == "not_met" or c["kind"] == "fact" for c in children), (
                    e.determination.case_id, node)


def test_every_leaf_is_a_case_fact_or_a_derived_value(explanations):
    for e in explanations:
        g = e.graph
        for node in g:
            if g.out_degree(node) == 0:
                data = g.nodes[node]
                assert data["kind"] in ("fact", "derived"), (e.determination.case_id, node, data)
                if data["kind"] == "fact":
                    assert re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+|\[\d+\])*", data["path"])


def test_numbers_are_shown_with_their_comparison():
    case = json.loads((GOLDEN / "not-medically-necessary.case.json").read_text())
    g = explain(decide(case)).graph
    derived = [d["label"] for _, d in g.nodes(data=True) if d["kind"] == "derived"]
    assert "conservative therapy 20 days, 2025-11-01 to 2025-11-20; at least 28 required" in derived


def test_node_ids_are_stable_across_runs():
    case = json.loads((GOLDEN / "case-by-case-review.case.json").read_text())
    first, second = explain(decide(case)), explain(decide(case))
    assert sorted(first.graph.nodes) == sorted(second.graph.nodes)
    assert first.render("dot") == second.render("dot")


def test_graph_json_is_node_link_with_a_version():
    data = json.loads(explain(decide(ALL[0])).to_json())
    assert data["graph"]["version"] == GRAPH_VERSION
    assert {"nodes", "edges", "directed"} <= data.keys()


UNFAVOURABLE = [(p, load_case_file(p)) for p in case_files()]
UNFAVOURABLE = [(p, s) for p, s in UNFAVOURABLE
                if s["expect"]["determination"] in ("not_medically_necessary", "more_information_needed")]


@pytest.mark.parametrize("path,spec", UNFAVOURABLE, ids=[str(p.relative_to(CASES)) for p, _ in UNFAVOURABLE])
def test_counterfactuals_change_the_determination_when_applied(path, spec):
    d = decide(spec["case"], readings=spec.get("readings"))
    e = explain(d)
    why = e.why_not()
    expected_decided_by = d.unmet if d.determination == "not_medically_necessary" else sorted(d.missing)
    assert why["decided_by"] == expected_decided_by
    sizes = {len(cf.changes) for cf in e.counterfactuals}
    assert len(sizes) <= 1, "every alternative offered is a smallest one"
    for cf in e.counterfactuals:
        again = decide(cf.apply(d.case), readings=spec.get("readings"))
        assert again.determination == cf.determination
        assert again.determination in ("medically_necessary", "case_by_case_review")
        # The change is needed whole: undoing any one part leaves the request unfavourable.
        for i in range(len(cf.changes)):
            partial = cf.changes[:i] + cf.changes[i + 1:]
            try:
                undone = decide(apply(d.case, partial), readings=spec.get("readings"))
            except CaseError:
                continue  # a list item without one of its required fields: the part is needed
            assert undone.determination not in ("medically_necessary", "case_by_case_review")


def test_counterfactual_documents_a_missing_fact():
    case = json.loads((GOLDEN / "not-medically-necessary.case.json").read_text())
    (cf,) = explain(decide(case)).counterfactuals
    assert {(c.path, c.value, c.was) for c in cf.changes} == {
        ("conservative_therapy.start_date", "2025-10-24", "2025-11-01"), ("pain.radiculopathy", False, None)}


@pytest.mark.parametrize("fmt,magic", [("svg", b"<svg"), ("png", b"\x89PNG"), ("dot", b"digraph"),
                                       ("html", b"<!DOCTYPE html>"), ("json", b'"graph"')])
def test_cli_writes_every_format(tmp_path, fmt, magic):
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(main, [str(GOLDEN_CASES[0]), "--explain", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert magic in out.read_bytes()


def test_html_is_self_contained():
    page = explain(decide(ALL[0])).render("html").decode()
    assert 'class="tree"' in page and "<style>" in page and "<script>" in page
    for outside in ("http://", "https://", "<script src", "<link", "url(", "@import"):
        assert outside not in page


def test_cli_explain_text_shows_why_not():
    path = GOLDEN / "not-medically-necessary.case.json"
    result = CliRunner().invoke(main, [str(path), "--explain"])
    assert "Decided by: I.E" in result.output
    assert "conservative_therapy.start_date: 2025-11-01 -> 2025-10-24" in result.output


def test_graph_formats_need_explain():
    result = CliRunner().invoke(main, [str(GOLDEN_CASES[0]), "--format", "svg"])
    assert result.exit_code == 2


def test_notebook_display_hooks():
    e = explain(decide(ALL[0]))
    assert e._repr_svg_().lstrip().startswith("<?xml") or "<svg" in e._repr_svg_()
    assert 'class="tree"' in e._repr_html_() and ".kbq" in e._repr_html_()
