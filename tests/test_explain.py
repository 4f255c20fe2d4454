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


# -- Pictures a person reads: the golden cases drawn as PNG, within a screen, text at 10 pt or more --------

ARTIFACTS = HERE / "artifacts"
MAX_WIDTH = 2400  # pixels at 100%, the golden cases' pictures with met branches folded (the default)
MIN_POINTS = 10  # the smallest text, at 100% (Graphviz draws PNG at 96 dpi: 10 pt is 13.3 px)
GOLDEN_IDS = [p.name.split(".")[0] for p in GOLDEN_CASES]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def svg_texts(svg: bytes) -> list[tuple[float, float, str]]:
    """(font size in points, y, text) of every text line of a Graphviz SVG, in document order."""
    texts = re.findall(r'<text [^>]*?y="([-\d.]+)"[^>]*?font-size="([\d.]+)"[^>]*>([^<]*)</text>', svg.decode())
    return [(float(size), float(y), html_unescape(text)) for y, size, text in texts]


def html_unescape(text: str) -> str:
    import html
    return html.unescape(text)


@pytest.fixture(scope="module")
def golden_explanations():
    return {name: explain(decide(json.loads(p.read_text()))) for name, p in zip(GOLDEN_IDS, GOLDEN_CASES)}


@pytest.mark.parametrize("name", GOLDEN_IDS)
def test_golden_png_fits_a_screen_with_readable_text(name, golden_explanations):
    e = golden_explanations[name]
    png = e.render("png")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)  # to look at
    width, height = png_size(png)
    assert width <= MAX_WIDTH, f"{name}.png is {width} px wide"
    svg = e.render("svg")
    points = re.search(rb'<svg width="(\d+)pt" height="(\d+)pt"', svg)
    # The PNG is the SVG's layout at 96 dpi, not shrunk: a point at 100% is 96/72 pixels.
    assert abs(width - int(points[1]) * 96 / 72) <= 2 and abs(height - int(points[2]) * 96 / 72) <= 2
    sizes = {size for size, _, _ in svg_texts(svg)}
    assert sizes and min(sizes) >= MIN_POINTS


def test_pictures_fold_met_branches_unless_expanded(golden_explanations):
    d = golden_explanations["not-medically-necessary"].determination
    folded, expanded, text = explain(d), explain(d, collapse_met=False), explain(d, collapse_met=True)
    assert "+2 below, folded" in folded.render("dot").decode()  # I.A: its condition and fact
    assert not re.search(r"\+\d+ below, folded", expanded.render("dot").decode())
    assert folded.text() == expanded.text() != text.text()  # the text tree folds only when asked
    assert png_size(folded.render("png"))[0] < png_size(expanded.render("png"))[0]


def test_criteria_are_drawn_in_the_policys_order(golden_explanations):
    from kbquery.determination import clause_order
    for name in ("not-medically-necessary", "repeat-therapeutic-too-soon", "case-by-case-review"):
        e = golden_explanations[name]
        svg = e.render("svg").decode()
        tops = {}
        for title, body in re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>(.*?)</g>', svg, re.S):
            ys = [float(y) for y in re.findall(r' y="([-\d.]+)"', body)]
            tops[html_unescape(title)] = min(ys)
        for section in (n for n in e.graph.successors("determination") if n.startswith("section:")):
            criteria = [c for c in e.graph.successors(section) if c in tops]
            assert sorted(criteria, key=lambda c: tops[c]) == sorted(criteria, key=clause_order), (name, section)


def test_alternatives_that_did_not_matter_are_grey_not_red(golden_explanations):
    from kbquery.explain import render
    e = golden_explanations["not-medically-necessary"]
    dot = explain(e.determination, collapse_met=False).render("dot").decode()
    # Ultrasound guidance under a met I.G.1.a, and the FABER test beyond the three I.D needs.
    for node in ("k(ultrasound_with_exception)", "k(provocation,faber)"):
        assert e.graph.nodes[node]["status"] == "not_met"
        line = next(line for line in dot.splitlines() if line.strip().startswith(f'"{node}"'))
        assert render.FILL["moot"] in dot.split(f'"{node}"', 1)[1].split("];", 1)[0], line
        assert render.FILL["not_met"] not in dot.split(f'"{node}"', 1)[1].split("];", 1)[0]
    # I.E, which decided it, is red and on the bold deciding path.
    attrs = dot.split('"I.E"', 1)[1].split("];", 1)[0]
    assert render.FILL["not_met"] in attrs and "penwidth=2.6" in attrs


@pytest.mark.parametrize("name", ["repeat-therapeutic-too-soon", "case-by-case-review"])
def test_field_paths_break_only_at_dots(name, golden_explanations):
    e = golden_explanations[name]
    lines = [text.strip() for _, _, text in svg_texts(explain(e.determination, collapse_met=False).render("svg"))]
    paths = {d["path"] for _, d in e.graph.nodes(data=True) if d["kind"] == "fact"}
    checked = 0
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        for path in paths:
            for cut in range(1, len(path)):
                if line.endswith(path[:cut]) and nxt.startswith(path[cut:]) and len(path[:cut]) > 2:
                    checked += 1
                    assert path[cut - 1] == ".", f"{path} broken after {path[:cut]!r}"
    assert checked, "some long path was wrapped"


def test_picture_footer_says_what_the_text_says(golden_explanations):
    e = golden_explanations["not-medically-necessary"]
    words = " ".join(text for _, _, text in svg_texts(e.render("svg")))
    for said in ("Legend", "did not matter", "deciding path", "Decided by", "I.E (not met)", "What would change it",
                 "conservative_therapy.start_date: 2025-11-01 -> 2025-10-24", "pain.radiculopathy: document false",
                 "Missing", "I.C: pain.radiculopathy", "Readings applied", "weeks = days (I.E, II.B)"):
        assert said in words, said


def test_cli_expand_and_collapse_met(tmp_path):
    path = str(GOLDEN / "not-medically-necessary.case.json")
    sizes = {}
    for flag in ("--expand", "--collapse-met", None):
        out = tmp_path / f"{flag}.png"
        result = CliRunner().invoke(main, [path, "--explain", "-o", str(out)] + ([flag] if flag else []))
        assert result.exit_code == 0, result.output
        sizes[flag] = png_size(out.read_bytes())
    assert sizes["--collapse-met"] == sizes[None] and sizes["--expand"][0] > sizes[None][0]
    folded_text = CliRunner().invoke(main, [path, "--explain", "--collapse-met"]).output
    assert "met below)" in folded_text and "met below)" not in CliRunner().invoke(main, [path, "--explain"]).output


def test_readme_picture_is_the_projects_rendering_and_fits_its_width():
    """docs/example-explanation.png is what the README's command writes (its layout, give or take a
    reading's words), and narrow enough to read at the README's width (about 880 px: text of 9 px)."""
    readme = (HERE.parent / "README.md").read_text()
    command = "kbquery examples/therapy-too-short.json --explain -o docs/example-explanation.png"
    assert command in readme and "](docs/example-explanation.png)" in readme
    shipped = png_size((HERE.parent / "docs" / "example-explanation.png").read_bytes())
    case = json.loads((HERE.parent / "examples" / "therapy-too-short.json").read_text())
    now = png_size(explain(decide(case)).render("png"))
    assert abs(now[0] - shipped[0]) <= 40 and abs(now[1] - shipped[1]) <= 120, (
        f"docs/example-explanation.png is {shipped}, the project now draws {now}: run `.venv/bin/{command}`")
    assert shipped[0] <= 1300  # shrunk to 880 px, 10 pt text (13.3 px) stays at 9 px or more
