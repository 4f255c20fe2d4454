"""The explanation as one self-contained HTML page: everything the text output says, and the
justification graph drawn as a left-to-right tree that folds and unfolds with a click.

No network: the style and the script are inline, and the graph is HTML boxes and CSS lines
(it reflows as branches fold, which a fixed Graphviz layout cannot). A print stylesheet
keeps colours and drops the controls, so the page can be attached to a determination.
"""

from __future__ import annotations

import html
import re

import networkx as nx

from .graph import ROOT
from .render import BORDER, FILL, INK, footer_lines
from .view import MARK, STATUS_WORD, View, shorten


def _e(text) -> str:
    return html.escape(str(text), quote=True)


PATH = re.compile(r"\b[a-z_]+(?:\[\d+\])*(?:\.[a-z0-9_]+(?:\[\d+\])*)+")


def _t(text) -> str:
    """Escaped text in which a field path may break only after a dot."""
    return PATH.sub(lambda m: m[0].replace(".", ".<wbr>"), _e(text))


def _words(value: str) -> str:
    return value.replace("_", " ")


class _Page:
    def __init__(self, g: nx.DiGraph, fold: bool, summary: dict):
        self.g, self.summary = g, summary
        self.d = summary.get("determination", {})
        self.view = View(g, fold, summary.get("decided_ids"))
        self.meaning = {r["id"]: r for r in self.d.get("interpretation", [])}

    # -- the graph -----------------------------------------------------------------------
    def derivation(self, node: str, depth: int = 0) -> list[tuple[int, str, str]]:
        """Everything below a box, as (depth, css class, text) lines: what the click shows."""
        out = []
        for c in self.g.successors(node):
            data = self.g.nodes[c]
            if data["kind"] == "fact":
                out.append((depth, "fact", data["label"]))
            elif data["kind"] == "derived":
                out.append((depth, "derived", "= " + data["label"]))
                out += [(depth + 1, "fact", self.g.nodes[f]["label"]) for f in self.g.successors(c)]
            else:
                status = data.get("status", "")
                text = f"{c}  {shorten(data['text'], 90)}" if data["kind"] == "criterion" else data["label"]
                out.append((depth, "st-" + self.view.look(c), f"{MARK.get(status, '')} {text}"))
                out += self.derivation(c, depth + 1)
        return out

    def box(self, node: str) -> str:
        view, data = self.view, self.g.nodes[node]
        kind, status, look = data["kind"], data.get("status", ""), view.look(node)
        word = STATUS_WORD.get(status, "")
        if look == "moot":
            word = f"did not matter ({word})"
        mark = MARK.get(status, "")
        tip = []
        if kind == "determination":
            head = f'<div class="head title">{_e(_words(self.g.nodes[ROOT]["determination"]).upper())}</div>'
            body = f'<div class="sub">case {_e(self.g.graph["case_id"])}<br>policy {_e(self.g.graph["policy"])}</div>'
            tip.append(_words(data["determination"]))
        elif kind == "criterion":
            head = (f'<div class="head"><span class="mark">{mark}</span> <b>{_e(node)}</b> '
                    f'<span class="word">{_e(word)}</span></div>')
            body = f'<div class="words">{_e(shorten(data["text"], 150))}</div>'
            tip.append(f"{node} ({word}): {data['text']}")
        else:
            label = view.title(node)
            head = f'<div class="head"><span class="mark">{mark}</span> {_e(label)}</div>'
            body = f'<div class="sub">{_e(word)}</div>' if kind == "section" else ""
            tip.append(f"{label} ({word})")
        if data.get("readings"):
            body += f'<div class="reading">reading: {_e(", ".join(data["readings"]))}</div>'
        evidence = view.evidence(node)
        if evidence:
            items = "".join(f'<li class="{k} d{depth}">{_t(text)}</li>' for k, text, depth in evidence)
            body += f'<ul class="evidence">{items}</ul>'
        more = self.more(node)
        lines = self.derivation(node)
        tip += ["  " * depth + text for depth, _, text in lines[:40]] + (["..."] if len(lines) > 40 else [])
        fold = ""
        if view.foldable(node):
            n = len(view.hidden(node))
            folded = view.folded(node)
            fold = (f'<button class="fold" type="button" aria-expanded="{str(not folded).lower()}" '
                    f'data-folded="+{n} below" title="fold or unfold what lies below">'
                    f'{"+" + str(n) + " below" if folded else "fold"}</button>')
        classes = ["node", f"st-{look}", kind] + (["deciding"] if node in view.deciding else [])
        return (f'<div class="{" ".join(classes)}" tabindex="0" data-node="{_e(node)}" title="{_e(chr(10).join(tip))}">'
                f'{head}{body}{fold}<div class="more">{more}</div></div>')

    def more(self, node: str) -> str:
        """What a click on a box shows: the policy's words whole, the readings' meanings, the derivation."""
        data, parts = self.g.nodes[node], []
        if data["kind"] == "criterion":
            parts.append(f'<p><b>The policy:</b> {_e(data["text"])}</p>')
            missing = self.d.get("missing", {}).get(node)
            if missing:
                parts.append(f'<p><b>Missing:</b> {_t(", ".join(missing))}</p>')
        if node in self.view.moot:
            parts.append("<p><b>Did not matter:</b> its parent is met without it (an alternative, or more than "
                         "the number needed).</p>")
        for r in data.get("readings", []):
            reading = self.meaning.get(r)
            if reading:
                parts.append(f'<p><b>Reading {_e(r)}</b> = {_e(reading["reading"])} ({_e(reading["clause"])}): '
                             f'{_e(reading["meaning"])}</p>')
        lines = self.derivation(node)
        if lines:
            items = "".join(f'<li class="{cls}" style="margin-left:{depth * 1.1:.1f}em">{_t(text)}</li>'
                            for depth, cls, text in lines)
            parts.append(f'<p><b>Derivation</b></p><ul class="derivation">{items}</ul>')
        return "".join(parts)

    def branch(self, node: str, parent: str | None, first: bool, last: bool) -> str:
        view = self.view
        kids = view.children(node)
        kept = set(view.kept(node))
        shown = view.shown(node)
        classes = ["branch"]
        if parent is not None and view.kind(node) != "criterion":
            classes.append("hideable")  # hidden when its parent folds
        if view.folded(node):
            classes.append("folded")
        if node in view.deciding and (parent is None or parent in view.deciding):
            classes.append("deciding")
        if view.kind(node) in ("section", "request_kind"):
            classes.append("band")  # one band per section, as in the picture
        classes += ["first"] * first + ["last"] * last
        inner = ""
        if kids:
            visible = [k for k in kids if k in shown]
            parts = [self.branch(c, node, bool(visible) and c == visible[0], bool(visible) and c == visible[-1])
                     for c in kids]
            empty = " empty" if not shown else ""
            inner = f'<div class="kids{empty}" data-kept="{len(kept)}">{"".join(parts)}</div>'
        return f'<div class="{" ".join(classes)}">{self.box(node)}{inner}</div>'

    # -- the text ------------------------------------------------------------------------
    def criteria_table(self) -> str:
        d = self.d
        if not d.get("criteria"):
            return "<p>No criterion was evaluated: no section of the policy governs this request.</p>"
        rows = []
        unmet = set(d.get("unmet", []))
        for c in d["criteria"]:
            reasons = d.get("reasons", {}).get(c["id"], [])
            prefix = "not met: " if c["status"] == "unknown" else ""
            notes = "".join(f"<li>{_t(prefix + r)}</li>" for r in reasons)
            missing = d.get("missing", {}).get(c["id"])
            if missing:
                notes += f'<li class="missing">missing: {_t(", ".join(missing))}</li>'
            look = "moot" if c["id"] in self.view.moot else c["status"]
            word = STATUS_WORD[c["status"]] + (" (did not matter)" if look == "moot" else "")
            word += " (decided it)" if c["id"] in unmet or c["id"] in self.summary.get("decided_ids", []) else ""
            rows.append(f'<tr class="st-{look}"><th scope="row">{_e(c["id"])}</th>'
                        f'<td><span class="badge st-{look}">{MARK[c["status"]]} {_e(word)}</span></td>'
                        f'<td>{_e(c["text"])}</td><td><ul>{notes}</ul></td></tr>')
        return ('<table class="criteria"><thead><tr><th>Criterion</th><th>Status</th><th>The policy\'s words</th>'
                f'<th>Reasons</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')

    def readings(self) -> str:
        rows = "".join(f'<tr><th scope="row">{_e(r["id"])}</th><td>{_e(r["clause"])}</td><td>{_e(r["reading"])}</td>'
                       f'<td>{_e(r["meaning"])}</td></tr>' for r in self.d.get("interpretation", []))
        if not rows:
            return ""
        return ('<section id="readings"><h2>Readings applied</h2><p class="note">The documented readings of '
                'ambiguous clauses that the rules used (<code>kbquery readings</code> lists the register).</p>'
                '<table class="readings"><thead><tr><th>Reading</th><th>Clause</th><th>Applied</th><th>Meaning</th>'
                f'</tr></thead><tbody>{rows}</tbody></table></section>')

    def why(self) -> str:
        parts = []
        for heading, items in footer_lines({k: v for k, v in self.summary.items() if k != "readings"}):
            if heading == "Decided by" and self.summary.get("decided_ids"):
                items = self.summary["decided_by"]  # whole, not shortened as in the picture
            tag = "ul"
            if heading.startswith("What would change it") and self.summary.get("would_change_heading"):
                tag, items = "ol", [item.split(". ", 1)[1] for item in items]  # numbered by the list
            lis = "".join(f"<li>{_t(item)}</li>" for item in items)
            parts.append(f"<h2>{_e(heading)}</h2><{tag}>{lis}</{tag}>")
        return f'<section id="why">{"".join(parts)}</section>'

    def legend(self) -> str:
        chips = "".join(f'<span class="badge st-{look}">{MARK.get(look, "–")} {word}</span> '
                        for look, word in (("met", "met"), ("not_met", "not met"), ("unknown", "unknown"),
                                           ("moot", "did not matter")))
        return (f'<p class="legend"><b>Legend</b> {chips}<span class="badge deciding-chip">bold: deciding path</span> '
                '<span class="derived">= derived value</span> · <span class="fact">path = value: a case fact</span> · '
                '<i>+N below: a folded met branch</i>. Click a box for the policy\'s words and its derivation.</p>')

    def page(self) -> str:
        g, d = self.g, self.d
        determination = g.nodes[ROOT]["determination"]
        heading = _words(determination).capitalize()
        policy = d.get("policy", {"id": g.graph["policy"]})
        revision = f" (revision {policy['revision']})" if policy.get("revision") else ""
        meta = [f"Case {g.graph['case_id']}", f"policy {policy['id']}{revision}",
                f"request: {_words(g.nodes[ROOT]['request_kind'])}"]
        if d.get("governing_sections"):
            meta.append("governing sections " + ", ".join(d["governing_sections"]))
        warnings = ""
        if d.get("warnings"):
            lis = "".join(f'<li><b>{_e(w["clause"])}</b>: {_e(w["text"])}</li>' for w in d["warnings"])
            warnings = f'<section id="warnings"><h2>Warnings</h2><ul>{lis}</ul></section>'
        look = self.view.look(ROOT)
        tree = self.branch(ROOT, None, True, True)
        digest = d.get("kb_digest") or g.graph.get("kb_digest", "")
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(heading)} - case {_e(g.graph['case_id'])}</title>
<style>{STYLE}</style></head>
<body><div class="kbq">
<header class="st-{look}"><h1 id="determination">{_e(heading)}</h1>
<p class="meta">{_e(" · ".join(meta))}</p></header>
<main>
{self.why()}
<section id="criteria-section"><h2>Criteria</h2>{self.criteria_table()}</section>
{warnings}
{self.readings()}
<section id="graph"><h2>Justification graph</h2>
<div class="toolbar"><button type="button" class="unfold-all">Unfold all</button>
<button type="button" class="fold-met">Fold met branches</button></div>
{self.legend()}
<div class="tree">{tree}</div>
</section>
</main>
<footer><p>Knowledge base <span class="digest">{_e(digest)}</span>. Written by kbquery; this page needs no network.</p></footer>
<script>{SCRIPT}</script>
</div></body></html>
"""


STYLE = """
:root { --met: %(met_b)s; --not_met: %(not_b)s; --unknown: %(unk_b)s; --moot: %(moot_b)s; }
* { box-sizing: border-box; }
body { margin: 0; }
.kbq { font-family: "Liberation Sans", Helvetica, Arial, sans-serif; margin: 0; color: #212121; font-size: 15px;
       line-height: 1.4; background: #fff; }
header { padding: 0.8em 1.5em; border-bottom: 4px solid #9e9e9e; background: #f5f5f5; }
header.st-met { background: %(met_f)s; border-color: %(met_b)s; }
header.st-not_met { background: %(not_f)s; border-color: %(not_b)s; }
header.st-unknown { background: %(unk_f)s; border-color: %(unk_b)s; }
header.st-moot { background: %(moot_f)s; border-color: %(moot_b)s; }
h1 { margin: 0; font-size: 1.7em; } .meta { margin: 0.2em 0 0; color: #424242; }
main { padding: 0 1.5em; } h2 { font-size: 1.15em; margin: 1.1em 0 0.3em; }
#why ul, #why ol { margin: 0.2em 0; padding-left: 1.4em; }
table { border-collapse: collapse; width: 100%%; font-size: 0.93em; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid #e0e0e0; padding: 0.3em 0.5em; }
thead th { background: #fafafa; } td ul { margin: 0; padding-left: 1.1em; } li.missing { color: %(unk_i)s; }
table.criteria th[scope=row] { white-space: nowrap; }
.badge { display: inline-block; white-space: nowrap; padding: 0 0.45em; border-radius: 0.35em; border: 1px solid; font-size: 0.9em; }
.badge.st-met { background: %(met_f)s; border-color: %(met_b)s; color: %(met_i)s; }
.badge.st-not_met { background: %(not_f)s; border-color: %(not_b)s; color: %(not_i)s; }
.badge.st-unknown { background: %(unk_f)s; border-color: %(unk_b)s; color: %(unk_i)s; }
.badge.st-moot { background: %(moot_f)s; border-color: %(moot_b)s; color: %(moot_i)s; }
.badge.deciding-chip { border: 3px solid #424242; }
.note { color: #616161; margin: 0.2em 0; }
.toolbar button { font: inherit; font-size: 0.9em; margin-right: 0.4em; cursor: pointer; }
.legend { font-size: 0.9em; } .legend .derived { color: #333; } .legend .fact { color: #5f5f5f; }
.tree { overflow-x: auto; padding: 0.6em 0 1em; font-size: 13px; }
.branch { display: flex; align-items: center; position: relative; }
.tree > .branch { display: inline-flex; }
.kids { display: flex; flex-direction: column; margin-left: 16px; position: relative; }
.kids.empty { display: none; }
.kids::before { content: ""; position: absolute; left: -16px; top: 50%%; width: 16px; border-top: 1.5px solid #9e9e9e; }
.kids > .branch { padding: 3px 0 3px 16px; }
.kids > .branch.band { padding: 9px 10px 9px 16px; background: linear-gradient(to right, transparent 16px, #f6f6f6 16px)
                       no-repeat 0 3px / 100%% calc(100%% - 6px); }
.kids > .branch::before { content: ""; position: absolute; left: 0; top: 50%%; width: 16px; border-top: 1.5px solid #9e9e9e; }
.kids > .branch::after { content: ""; position: absolute; left: 0; top: 0; bottom: 0; border-left: 1.5px solid #9e9e9e; }
.kids > .branch.first::after { top: 50%%; } .kids > .branch.last::after { bottom: 50%%; }
.kids > .branch.first.last::after { display: none; }
.kids > .branch.deciding::before { border-top: 3px solid #424242; }
.branch.deciding > .kids::before { border-top: 3px solid #424242; }
.branch.folded > .kids > .branch.hideable { display: none; }
.branch.folded > .node .evidence { display: none; }
.node { border: 1.5px solid #9e9e9e; border-radius: 8px; padding: 4px 8px; width: 290px; background: #fff;
        cursor: pointer; flex: none; }
.node.determination { width: 200px; } .node.section { width: 120px; } .node.request_kind { width: 230px; }
.node.deciding { border-width: 3px; }
.node:focus { outline: 2px solid #1565c0; outline-offset: 1px; }
.node.st-met { background: %(met_f)s; border-color: %(met_b)s; }
.node.st-not_met { background: %(not_f)s; border-color: %(not_b)s; }
.node.st-unknown { background: %(unk_f)s; border-color: %(unk_b)s; }
.node.st-moot { background: %(moot_f)s; border-color: %(moot_b)s; border-style: dashed; color: %(moot_i)s; }
.node.determination.st-moot { border-style: solid; color: #212121; }
.node .head.title { font-weight: bold; font-size: 16px; }
.st-met .mark, .st-met .word { color: %(met_i)s; } .st-not_met .mark, .st-not_met .word { color: %(not_i)s; }
.st-unknown .mark, .st-unknown .word { color: %(unk_i)s; } .st-moot .mark, .st-moot .word { color: %(moot_i)s; }
.node .word { font-size: 0.9em; } .node .sub { font-size: 0.9em; color: #424242; }
.node .reading { font-style: italic; color: #555; font-size: 0.92em; }
.node .evidence { list-style: none; margin: 2px 0 0; padding: 0; font-size: 0.92em; }
.evidence .derived { color: #333; } .evidence .fact { color: #5f5f5f; } .evidence .d1 { padding-left: 1em; }
.evidence li, .derivation li { overflow-wrap: normal; }
.node .fold { font: inherit; font-size: 0.85em; font-style: italic; margin-top: 3px; padding: 0 0.5em;
              border: 1px solid #9e9e9e; border-radius: 0.8em; background: #fff; cursor: pointer; }
.node .more { display: none; border-top: 1px solid #bdbdbd; margin-top: 4px; padding-top: 3px; font-size: 0.92em; }
.node .more p { margin: 0.2em 0; } .node.open .more { display: block; }
.derivation { list-style: none; padding: 0; margin: 0; }
.derivation .fact { color: #5f5f5f; } .derivation .st-not_met { color: %(not_i)s; }
.derivation .st-met { color: %(met_i)s; } .derivation .st-unknown { color: %(unk_i)s; } .derivation .st-moot { color: %(moot_i)s; }
footer { padding: 0.5em 1.5em 1.5em; color: #757575; font-size: 0.85em; overflow-wrap: anywhere; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .kbq { font-size: 10pt; } main { padding: 0; } header { padding: 0.4em 0; }
  .toolbar { display: none; } .node .fold { border: none; padding: 0; background: none; }
  .tree { overflow: visible; zoom: var(--print-zoom, 1); }
  .node { cursor: default; break-inside: avoid; }
  table, tr { break-inside: auto; } tr { break-inside: avoid; }
  #graph { break-before: page; }
}
""" % {"met_f": FILL["met"], "met_b": BORDER["met"], "met_i": INK["met"],
       "not_f": FILL["not_met"], "not_b": BORDER["not_met"], "not_i": INK["not_met"],
       "unk_f": FILL["unknown"], "unk_b": BORDER["unknown"], "unk_i": INK["unknown"],
       "moot_f": FILL["moot"], "moot_b": BORDER["moot"], "moot_i": INK["moot"]}

SCRIPT = """
(function (root) {
  var PRINT_WIDTH = 700;
  function layout() {  // the lines between boxes: which child is first and last among those shown
    root.querySelectorAll('.tree .kids').forEach(function (kids) {
      var shown = Array.prototype.filter.call(kids.children, function (b) {
        b.classList.remove('first', 'last');
        return getComputedStyle(b).display !== 'none';
      });
      if (shown.length) { shown[0].classList.add('first'); shown[shown.length - 1].classList.add('last'); }
      kids.classList.toggle('empty', shown.length === 0);
    });
    // Printed, the graph shrinks to the width of a page (A4 or Letter, within margins).
    var drawn = root.querySelector('.tree > .branch');
    root.style.setProperty('--print-zoom', String(Math.min(1, PRINT_WIDTH / Math.max(1, drawn.scrollWidth))));
  }
  function setFolded(branch, folded) {
    var button = branch.querySelector(':scope > .node > .fold');
    if (!button) return;
    branch.classList.toggle('folded', folded);
    button.setAttribute('aria-expanded', String(!folded));
    button.textContent = folded ? button.dataset.folded : 'fold';
  }
  root.querySelectorAll('.tree .fold').forEach(function (button) {
    button.addEventListener('click', function (event) {
      event.stopPropagation();
      var branch = button.closest('.branch'), fold = !branch.classList.contains('folded');
      setFolded(branch, fold);
      if (!fold) {  // unfolding shows the whole branch, not one more level of folds
        branch.querySelectorAll('.branch.folded').forEach(function (b) { setFolded(b, false); });
      }
      layout();
    });
  });
  root.querySelectorAll('.tree .node').forEach(function (node) {
    function toggle() { node.classList.toggle('open'); }
    node.addEventListener('click', toggle);
    node.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); toggle(); }
    });
  });
  function all(folded) {
    root.querySelectorAll('.tree .branch').forEach(function (b) { setFolded(b, folded); });
    layout();
  }
  root.querySelector('.unfold-all').addEventListener('click', function () { all(false); });
  root.querySelector('.fold-met').addEventListener('click', function () { all(true); });
  layout();
})(document.currentScript.closest('.kbq'));
"""


def _scoped(css: str) -> str:
    """Every rule under .kbq, so that the page's style shown inside a notebook touches nothing else."""
    def rule(m):
        selectors = ", ".join(sel if sel.startswith((".kbq", "body", ":root")) else f".kbq {sel}"
                              for sel in (x.strip() for x in m[1].split(",")))
        return f"{selectors} {{{m[2]}}}"
    return re.sub(r"([^{}@]+?)\s*\{([^{}]*)\}", rule, css)


STYLE = _scoped(STYLE)


def page(g: nx.DiGraph, fold: bool, summary: dict) -> str:
    return _Page(g, fold, summary).page()
