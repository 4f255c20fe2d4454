"""The HTML explanation opened in a real headless chromium (tests/browser.py), read as a reviewer does:
its first line, everything the text output says, folding and unfolding with a click, a box's
policy text and derivation, the print stylesheet, no network, and screenshots compared with
the reviewed ones in tests/golden/screenshots/ (each run's are under tests/artifacts/)."""

from __future__ import annotations

import json

import pytest

from browser import compare_screenshot
from conftest import HERE
from kbquery import decide
from kbquery.explain import explain

GOLDEN = HERE / "golden"
GOLDEN_CASES = sorted(GOLDEN.glob("*.case.json"))
GOLDEN_IDS = [p.name.split(".")[0] for p in GOLDEN_CASES]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Each golden case's page, written as the CLI writes it, by name (and name + '-expanded')."""
    folder = tmp_path_factory.mktemp("pages")
    out = {}
    for name, path in zip(GOLDEN_IDS, GOLDEN_CASES):
        e = explain(decide(json.loads(path.read_text())))
        out[name] = (e, folder / f"{name}.html")
        e.write(out[name][1])
        expanded = explain(e.determination, collapse_met=False)
        out[name + "-expanded"] = (expanded, folder / f"{name}-expanded.html")
        expanded.write(out[name + "-expanded"][1])
    return out


def open_page(page, pages, name):
    e, path = pages[name]
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert requests == [path.as_uri()], f"the page asked for more than itself: {requests}"
    return e


@pytest.mark.parametrize("name", GOLDEN_IDS)
def test_page_says_everything_the_text_says(page, pages, name, update_golden):
    e = open_page(page, pages, name)
    d = e.determination
    shown = page.inner_text("body")
    assert shown.splitlines()[0] == d.determination.replace("_", " ").capitalize()
    said = [d.case_id, d.policy["id"], d.policy["revision"], d.request_kind.replace("_", " ")]
    for c in d.criteria:
        said += [c.id, c.text] + c.reasons
    for cid, paths in d.missing.items():
        said += [cid] + paths
    said += [w["text"] for w in d.warnings]
    said += [x for r in d.interpretation for x in (r["id"], r["reading"], r["meaning"])]
    why = e.why_not()
    said += why["decided_by"]
    for cf in e.counterfactuals:
        said += [str(change) for change in cf.changes] + [cf.determination.replace("_", " ")]
    if why["decided_by"] and not e.counterfactuals:
        said.append("No change of the documented facts within the criteria's reach makes it favourable.")
    flat = " ".join(shown.split())
    missing = [s for s in said if " ".join(s.split()) not in flat]
    assert not missing, f"the page does not show: {missing}"
    if name in ("not-medically-necessary", "more-information-needed", "not-addressed"):
        shot = page.screenshot(full_page=True, mask=[page.locator("footer .digest")])  # the rules' digest
        compare_screenshot(shot, f"page-{name}", update_golden)


def visible(page, node: str) -> bool:
    return page.locator(f'.tree .node[data-node="{node}"]').is_visible()


def test_click_unfolds_and_folds(page, pages, update_golden):
    open_page(page, pages, "not-medically-necessary")
    # Met branches start folded; I.G.1.a's conditions (ultrasound guidance among them) are hidden.
    assert page.locator(".tree .branch.folded").count() > 0
    assert visible(page, "I.G.1.a") and not visible(page, "k(ultrasound_with_exception)")
    button = page.locator('.tree .node[data-node="I.G.1.a"] > .fold')
    assert button.inner_text() == "+13 below"
    button.click()
    assert visible(page, "k(ultrasound_with_exception)") and button.inner_text() == "fold"
    assert button.get_attribute("aria-expanded") == "true"
    # The failed alternative under the met I.G.1.a did not matter: grey, not red.
    moot = page.locator('.tree .node[data-node="k(ultrasound_with_exception)"]')
    assert "st-moot" in moot.get_attribute("class")
    assert moot.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(240, 240, 240)"
    page.set_viewport_size({"width": 1700, "height": 900})  # the unfolded branch is wider than the first view
    branch = page.locator('.tree .branch:has(> .node[data-node="I.G.1.a"])')
    compare_screenshot(branch.screenshot(), "graph-not-medically-necessary-unfolded", update_golden)
    button.click()
    assert not visible(page, "k(ultrasound_with_exception)") and button.inner_text() == "+13 below"
    # Unfold all, then fold the met branches again.
    page.click(".toolbar .unfold-all")
    assert page.locator(".tree .branch.folded").count() == 0 and visible(page, "k(provocation,faber)")
    page.click(".toolbar .fold-met")
    assert not visible(page, "k(provocation,faber)") and visible(page, "I.D")


def test_a_box_shows_its_policy_text_and_derivation(page, pages):
    e = open_page(page, pages, "not-medically-necessary")
    words = e.graph.nodes["I.F"]["text"]
    box = page.locator('.tree .node[data-node="I.F"]')
    assert words in box.get_attribute("title")  # on hover
    assert words not in box.inner_text()  # shortened in the box ...
    box.click()
    assert words in " ".join(box.inner_text().split())  # ... whole on a click, with the derivation
    assert "other_causes = []" in box.inner_text()
    box.click()
    assert words not in box.inner_text()
    ie = page.locator('.tree .node[data-node="I.E"]')
    ie.click()
    text = " ".join(ie.inner_text().split())
    assert "conservative therapy 20 days, 2025-11-01 to 2025-11-20; at least 28 required" in text
    (weeks,) = [n for n, data in e.graph.nodes(data=True) if "weeks" in data.get("readings", [])]
    condition = page.locator(f'.tree .node[data-node="{weeks}"]')
    condition.click()
    assert "Reading weeks = days (I.E, II.B): Four weeks of therapy are 28 days" in " ".join(condition.inner_text().split())


def test_expand_and_collapse_met_are_respected(page, pages):
    open_page(page, pages, "not-medically-necessary-expanded")
    assert page.locator(".tree .branch.folded").count() == 0
    assert visible(page, "k(ultrasound_with_exception)")
    folded = explain(pages["not-medically-necessary"][0].determination, collapse_met=True).render("html").decode()
    assert 'class="branch hideable folded' in folded or "folded" in folded


def test_print_stylesheet(page, pages, update_golden):
    open_page(page, pages, "not-medically-necessary")
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    header = page.locator("header")
    assert header.evaluate("h => getComputedStyle(h).printColorAdjust") == "exact"
    shot = page.screenshot(full_page=True, mask=[page.locator("footer .digest")])
    compare_screenshot(shot, "print-not-medically-necessary", update_golden)
    # The graph shrinks to a page's width (A4 is 794 px at 96 dpi, less its margins).
    width = page.locator(".tree > .branch").evaluate("b => b.getBoundingClientRect().width")
    assert width <= 720, f"the printed graph is {width} px wide"
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
