"""kbquery document: the policy's text with its rules, readings and cases side by side.

QA runs once per policy for the whole module; the documents are built once from it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser import save_artifact
from conftest import ROOT
from kbquery import document, qa
from kbquery.cli import main
from kbquery.determination import clause_order
from kbquery.knowledge import KnowledgeBase, knowledge_base

MC, LCD = "MC.CP.MP.166", "L39383"
CASES = ROOT / "tests" / "cases"
COMMITTED = ROOT / "docs" / f"{MC}.html"
REGENERATE = f".venv/bin/kbquery document -o docs/{MC}.html"
MC_CRITERIA = ["I.A", "I.B", "I.C", "I.D", "I.E", "I.F", "I.G", "I.G.1.a", "I.G.1.b", "I.G.1.c", "I.G.2.a",
               "I.G.2.b", "II", "II.A", "II.B", "III.A", "III.B", "III.C", "III.D", "IV", "V.A", "V.B", "V.C",
               "V.C.1", "V.C.2", "V.C.3", "V.D", "VI", "VII"]
CODES = ["27096", "G0260", "64451", "64625"]


@pytest.fixture(scope="module")
def qa_reports() -> dict[str, dict]:
    """QA of MC.CP.MP.166 (run once: some 10 s); the LCD's document is tested without QA."""
    return {MC: qa.run(knowledge_base(MC)).to_dict(), LCD: None}


@pytest.fixture(scope="module")
def docs(qa_reports) -> dict[str, document.Document]:
    return {p: document.build(knowledge_base(p), CASES, qa_reports[p]) for p in (MC, LCD)}


@pytest.fixture(scope="module")
def pages(docs) -> dict[str, str]:
    return {p: document.render(d, COMMITTED) for p, d in docs.items()}


def section(page: str, cid: str) -> str:
    """The HTML of one criterion's row: its text and the panel beside it."""
    start = page.index(f'id="c-{cid}"')
    end = page.find("<section class=\"row", start)
    return page[start:end if end > 0 else None]


# --- what the document shows ------------------------------------------------------------------


def test_the_policy_text_is_the_body_in_its_own_order(docs):
    doc = docs[MC]
    assert doc.source == ROOT / "kb" / MC / "source.txt"
    located = [doc.blocks[doc.located[c]].outline for c in MC_CRITERIA]
    assert located == MC_CRITERIA and sorted(doc.located.values()) == [doc.located[c] for c in MC_CRITERIA]
    texts = [b.text for b in doc.blocks]
    assert texts.index("Policy/Criteria") < doc.located["I.A"] < texts.index("Background") \
        < texts.index("Coding Implications") < texts.index("References")


@pytest.mark.parametrize("cid", MC_CRITERIA)
def test_every_criterion_stands_with_its_rule_reading_cases_and_coverage(pages, docs, cid):
    html = section(pages[MC], cid)
    kb = knowledge_base(MC)
    assert f"Criterion {cid}</h4>" in html
    assert f"clause(&quot;{cid}&quot;" in html, "its clause/2 rule, as ASP"
    assert re.search(rf'<p class="plain">{re.escape(cid)} is (met when|evaluated)', html), "a plain-language line"
    assert "Suite coverage:" in html and "Suite cases" in html
    for status in ("met", "not met", "unknown"):
        assert f"<h5>{status} (" in html
    for reading in kb.readings.values():
        if cid in re.split(r",\s*", reading.clause):
            assert f"<code>{reading.id}</code>" in html and "applied</span>" in html
    e = docs[MC].encodings[docs[MC].located[cid]]
    assert e.cases["met"] or e.cases["not_met"], f"{cid}: no suite case evaluates it"


def test_an_overview_lists_every_criterion_with_its_figures(pages):
    table = pages[MC].split('<table class="overview">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr><td><a href="#c-([^"]+)">', table) == MC_CRITERIA
    assert '<td class="n n-met">0</td><td class="n n-not_met">2</td>' in table  # VI: never met, as QA says


def test_the_plain_language_line_follows_the_tree():
    doc_line = document.plain_language("I.D", document._static(knowledge_base(MC)))[0]
    assert doc_line == "I.D is met when at least 3 of these 6 hold:"


def test_a_sections_readings_and_overlaps_stand_beside_its_lead_in(pages, docs):
    doc = docs[MC]
    lead = next(b for b in doc.blocks if b.outline == "I" and b.kind == "item")
    e = doc.encodings[lead.index]
    assert e.role == "lead-in" and "general_criteria" in {r.id for r in e.readings}
    assert any(f["check"] == "overlap" and f["subject"] == "I / II" for f in e.findings)
    html = pages[MC].split(f'data-block="{lead.index}"', 1)[1].split("<section class=\"row", 1)[0]
    assert "<code>general_criteria</code>" in html and "I / II" in html


def test_thresholds_readings_and_findings_stand_beside_their_criteria(docs):
    doc = docs[MC]
    enc = {c: doc.encodings[i] for c, i in doc.located.items()}
    assert ("positive_provocation_tests", "3") in enc["I.D"].thresholds
    assert ("therapy_days", "28") in enc["I.E"].thresholds
    assert {r.id for r in enc["I.A"].readings} >= {"bilateral_injection"}
    assert any(f["check"] == "status_never_reached" for f in enc["VI"].findings)
    assert any(f["check"] == "dead_rule" and f["subject"].startswith("section_I.lp:") for f in enc["I.D"].findings)
    assert any(f["check"] == "overlap" and f["subject"] == "III / V" for f in enc["V.A"].findings) or \
        any(f["subject"] == "III / V" for e in doc.encodings.values() for f in e.findings)


def test_the_coding_section_is_encoded_with_its_rules_and_cases(pages, docs):
    doc = docs[MC]
    for code in CODES:
        row = next(b for b in doc.blocks if b.kind == "row" and b.text.startswith(code))
        e = doc.encodings[row.index]
        assert e.role == "encoded", code
        assert any(f'"{code}"' in s.text for c in e.chunks for s in c.statements), code
        assert e.cases.get("decided"), f"{code}: no suite case requests it"


def test_sentences_no_rule_encodes_are_marked(pages, docs):
    doc, page = docs[MC], pages[MC]
    texts = [b.text for b in doc.blocks]
    background = [b for b in doc.blocks[texts.index("Background"):texts.index("Coding Implications")]
                  if b.kind == "paragraph"]
    assert len(background) >= 5
    assert all(b.index not in doc.encodings or not doc.encodings[b.index].role for b in background)
    assert "not encoded: Description" in page and "not encoded: References" in page
    assert page.count('class="row role-none') > 50 and page.count('class="row role-criterion') == len(MC_CRITERIA)


def test_the_digest_and_revision_stand_on_every_printed_page(pages):
    kb = knowledge_base(MC)
    page = pages[MC]
    assert re.search(r"@bottom-left \{ content: \"knowledge base " + re.escape(kb.digest), page)
    assert f'@top-left {{ content: "{MC} revision {kb.revision}"' in page
    assert "<script src" not in page and "<link" not in page and "http" not in re.sub(r"<a [^>]*>|&lt;http[^ ]*", "", page.split("<main>")[0])


def test_the_lcd_document_says_it_is_a_restatement(pages, docs):
    page, doc = pages[LCD], docs[LCD]
    assert doc.source == ROOT / "kb" / LCD / "source.md"
    assert "<strong>A restatement, not the policy's own text.</strong>" in page
    assert f'@top-left {{ content: "{LCD} revision 03/19/2023, restated \u2014 a restatement' in page
    kb = knowledge_base(LCD)
    assert sorted(doc.located, key=clause_order) == sorted(kb.clauses, key=clause_order)
    for cid in kb.clauses:
        html = section(page, cid)
        assert f"Criterion {cid}</h4>" in html and "figure class=\"rule\"" in html and "Suite cases" in html


# --- the two consistency checks ----------------------------------------------------------------


@pytest.mark.parametrize("policy", [MC, LCD])
def test_every_criterion_has_a_rule_and_every_rule_cites_the_policy(docs, policy):
    """A criterion id (clause/2) has a rule that evaluates it (part/2 or status/2 with the id); a
    rule about a criterion (its head's first argument an id) names one that clause/2 gives; a criterion
    cites the policy: its words are in the text (whitespace, quotes and markup aside; an ellipsis,
    a colon or a semicolon may join words of a heading and its items) at the place numbered with
    its id; and the quotations in the comments above the rules that encode a criterion are in the text."""
    doc = docs[policy]
    assert doc.without_rule == [], f"criteria no rule evaluates: {doc.without_rule}"
    assert doc.uncited == [], f"rules about an id no clause/2 gives: {doc.uncited}"
    assert doc.unlocated == [], f"criteria whose words are not in the text where numbered: {doc.unlocated}"
    assert doc.stray_quotes == [], f"quotations above encoding rules not in the text: {doc.stray_quotes}"
    for cid, index in doc.located.items():
        assert doc.blocks[index].outline == cid
        assert doc.encodings[index].chunks, f"{cid}: no rule shown beside it"


def test_the_checks_catch_a_criterion_without_rule_or_text(tmp_path):
    shutil.copytree(ROOT / "kb", tmp_path / "kb", ignore=shutil.ignore_patterns("__pycache__"))
    rules = tmp_path / "kb" / MC / "sections_II_to_VII.lp"
    rules.write_text(rules.read_text(encoding="utf-8")
                     + '\n% "VIII. Words the policy does not hold."\nclause("VIII", "Words the policy does not hold").\n'
                     + 'section("VIII", "VIII").\npart("I.Z", k(one_injection)) :- request_day(_).\n', encoding="utf-8")
    doc = document.build(KnowledgeBase(MC, tmp_path / "kb"))
    assert doc.without_rule == ["VIII"] and doc.unlocated == ["VIII"]
    assert [u.split(": ", 1)[1] for u in doc.uncited] == ["I.Z"]
    page = document.render(doc)
    assert "criteria no rule evaluates: VIII" in page and "no criterion of the policy: sections_II_to_VII.lp:" in page


# --- the command and the committed example ------------------------------------------------------


def test_the_committed_example_is_up_to_date(pages, update_golden):
    """docs/MC.CP.MP.166.html is what the rules, the suite cases and QA give now; `pytest
    --update-golden` (or the command REGENERATE names) writes it anew."""
    if update_golden:
        COMMITTED.write_text(pages[MC], encoding="utf-8")
    assert COMMITTED.is_file(), f"no {COMMITTED.relative_to(ROOT)}: run {REGENERATE}"
    assert COMMITTED.read_text(encoding="utf-8") == pages[MC], \
        f"{COMMITTED.relative_to(ROOT)} is not what the knowledge base gives now: run {REGENERATE} " \
        "(or pytest --update-golden) and look at it before committing it"


def test_the_command_writes_the_page(tmp_path, qa_reports):
    report = tmp_path / "qa.json"
    finding = {"check": "never_decisive", "subject": "1a.2", "detail": "a finding of a saved report"}
    report.write_text(json.dumps({"exhaustive": True, "policy": LCD, "findings": [finding]}), encoding="utf-8")
    out = tmp_path / "L39383.html"
    result = CliRunner().invoke(main, ["document", "--policy", LCD, "--qa-report", str(report), "-o", str(out),
                                       "--cases", str(CASES / LCD / "1b")])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Criterion 1b.2</h4>" in page and "1b.2-" in page
    assert "a finding of a saved report" in page
    wrong = CliRunner().invoke(main, ["document", "--qa-report", str(report), "-o", str(out)])
    assert wrong.exit_code == 2 and "not MC.CP.MP.166" in wrong.output


# --- in a real browser -------------------------------------------------------------------------


def test_the_document_in_a_browser(page, pages, tmp_path):
    path = ROOT / "docs" / f".{MC}.test.html"  # beside the committed one, so that its links resolve alike
    path.write_text(pages[MC], encoding="utf-8")
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    try:
        page.goto(path.as_uri())
        assert page.locator("h1").inner_text().startswith("Sacroiliac Joint Interventions")
        save_artifact(page.screenshot(), "document-first-page")
        row = page.locator('[id="c-I.D"]')
        row.scroll_into_view_if_needed()
        assert row.locator("h4.crit").inner_text() == "Criterion I.D"
        assert row.locator("figure.rule").first.is_visible()
        assert "at least three SIJ pain provocation tests" in row.locator(".text").inner_text()
        assert row.locator(".plain").inner_text() == "I.D is met when at least 3 of these 6 hold:"
        box = row.bounding_box()
        text_box, panel_box = row.locator(".text").bounding_box(), row.locator("aside").bounding_box()
        assert text_box["x"] + text_box["width"] <= panel_box["x"], "the rules stand beside the text"
        save_artifact(row.screenshot(), "document-criterion-I.D")
        background = page.locator(".role-none .badge", has_text="not encoded: Description").first
        assert background.is_visible()
        assert box["width"] > 1000
    finally:
        path.unlink()
    assert fetched == [], f"the page fetched {fetched}"
