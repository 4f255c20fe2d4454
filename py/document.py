"""The policy as a document a clinical policy committee can sign off.

The policy's own text is the body, in its own order and numbering; beside each sentence that
the knowledge base encodes stand the rules that encode it (their ASP text and the comment
quoting the policy above them), a plain-language line generated from the condition tree, the
readings of the register that touch it, its thresholds, the suite cases that show it met, not
met and unknown, its coverage figures and the QA findings that concern it. Sentences no rule
encodes are marked as such.

Knows nothing of any one policy: the text is the file policy.json's "source" names, the
criteria are clause/2, the rules are the policy's rule files parsed with clingo, the readings
are the register, the cases a folder of case files.

    model = build(knowledge_base(policy), cases=Path("tests/cases"), qa_report=qa.run(kb).to_dict())
    html = render(model, Path("docs/policy.html"))  # links to the cases relative to the page
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import string
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import clingo
from clingo import ast

from .determination import clause_order, node_id
from .knowledge import KnowledgeBase
from .qa import CHECK_TITLES
from .symbols import path_text, symbol_path

HERE = Path(__file__).parent
TEMPLATE = HERE / "document.html"
STYLE = HERE / "document.css"
SCRIPT = HERE / "document.js"

CASES_SHOWN = 5  # per status, in a criterion's panel; the rest are counted
# The predicates whose first argument is the criterion a rule is about (the condition tree's vocabulary).
CRITERION_HEADS = ("clause", "section", "part", "status", "all_of", "any_of", "at_least", "agree", "leaf",
                   "uses", "reads", "say", "warning", "prevails", "outright_exclusion", "documented", "expect")


# ---------------------------------------------------------------------------- normalising text

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def normalise(text: str) -> str:
    """Text as compared: markup, footnote marks, quotes and spacing set aside; >= and the LaTeX
    \\geq read alike; case folded."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)            # [words](link) -> words
    text = re.sub(r"(^|\s)(?:#+|[-•])\s", r"\1", text)                # Markdown headings and bullets
    text = re.sub(r"\^\{[\d,\s]*\}", "", text)                       # ^{27,29} footnote marks
    text = text.translate({ord(c): None for c in _SUPERSCRIPTS})
    text = text.replace("\\geq", "≥").replace("\\leq", "≤").replace("\\%", "%").replace("$", "")
    text = text.replace(">=", "≥").replace("<=", "≤")
    text = re.sub(r"[*_`]+", "", text)                                 # emphasis
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "®": ""}))
    text = text.replace('"', "")
    text = re.sub(r"([≥≤])\s+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def pieces(words: str) -> list[str]:
    """A clause's or a quotation's words as the pieces that must appear in order: an ellipsis, and
    a colon or semicolon, may join words from a heading and its items, or leave words out."""
    parts = re.split(r"\.\.\.|…|:\s|;\s", normalise(words))
    return [p for p in (part.strip(" .;:,(") for part in parts) if len(p) > 1]


def found_in_order(parts: list[str], text: str) -> bool:
    at = 0
    for part in parts:
        i = text.find(part, at)
        if i < 0:
            return False
        at = i + len(part)
    return True


# ---------------------------------------------------------------------------- the policy's text

@dataclass
class Block:
    """One located piece of the policy's text: a heading, an item of its outline, a paragraph,
    a note, a table row or a repeated page header."""

    index: int
    kind: str            # heading, item, paragraph, note, row, page_header
    text: str            # as in the source (one line, continuation lines joined)
    outline: str | None  # the policy's numbering of the item (I.G.1.a, 1b.2), notes take their item's
    label: str = ""      # the numbering as printed ("a.", "II.")
    heading: str = ""    # the heading it stands under
    level: int = 0       # heading depth, or item depth in the outline

    @functools.cached_property
    def norm(self) -> str:
        return normalise(f"{self.label if self.label != '•' else ''} {self.text}")

    @property
    def anchor(self) -> str:
        return f"b{self.index}"


_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"]
_ITEM = re.compile(r"^(?:[-*]\s+)?([IVX]+|[A-Z]|\d+|[a-z])\.\s+(\S.*)$")
_RANK = {"roman": 0, "upper": 1, "digit": 2, "lower": 3}


def _next_letter(label: str) -> str:
    return chr(ord(label) + 1)


class _Outline:
    """The numbering of a plain-text policy: I. / A. / 1. / a., told apart by what comes next."""

    def __init__(self):
        self.stack: list[tuple[str, str]] = []  # (kind, label)

    def reset(self):
        self.stack = []

    def kind_of(self, label: str) -> str:
        if label.isdigit():
            return "digit"
        if label.islower():
            return "lower"
        last = {kind: lab for kind, lab in self.stack}
        if "upper" in last and len(label) == 1 and label == _next_letter(last["upper"]):
            return "upper"
        if label in _ROMAN:
            expected = _ROMAN[_ROMAN.index(last["roman"]) + 1] if "roman" in last else "I"
            if label == expected or len(label) > 1:
                return "roman"
        return "upper"

    def push(self, label: str) -> tuple[str, int]:
        kind = self.kind_of(label)
        self.stack = [(k, lab) for k, lab in self.stack if _RANK[k] < _RANK[kind]]
        self.stack.append((kind, label))
        return ".".join(lab for _, lab in self.stack), len(self.stack)


def parse_text(source: str) -> list[Block]:
    """A plain-text policy: one line a paragraph or an outline item, headings short lines without
    closing punctuation, tab-separated lines table rows, a line repeated on every page a page header."""
    lines = [line.rstrip() for line in source.splitlines()]
    counts = defaultdict(int)
    for line in lines:
        if line.strip():
            counts[line.strip()] += 1
    blocks: list[Block] = []
    outline = _Outline()
    heading, current = "", None
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        add = lambda kind, text, outline_id=None, label="", level=0: blocks.append(  # noqa: E731
            Block(len(blocks), kind, text, outline_id, label, heading, level))
        if counts[line] >= 3 and len(line) < 60:
            add("page_header", line)
        elif "\t" in line:
            add("row", line)
        elif (m := _ITEM.match(line)) and not line.startswith("Note:"):
            current, level = outline.push(m[1])
            add("item", m[2], current, m[1] + ".", level)
        elif line.startswith("Note:"):
            add("note", line, current)
        elif len(line) < 70 and not re.search(r"[.;:,!?)]$|: ", line) and not line.startswith(("[", "©")):
            heading, current = line, None
            outline.reset()
            add("heading", line, level=2)
        else:
            add("paragraph", line, current if current and blocks and blocks[-1].kind in ("item", "note") else None)
    return blocks


def parse_markdown(source: str) -> list[Block]:
    """A Markdown policy: numbered headings (## 1., ### 1a.) number the items under them in
    order (1.1, 1a.2); unnumbered headings number nothing."""
    blocks: list[Block] = []
    heading, number, count = "", None, 0
    pending: list[str] = []
    kind = None
    item: tuple[str | None, str] = (None, "")

    def flush():
        nonlocal pending, kind
        if pending:
            text = " ".join(p.strip() for p in pending)
            outline_id, label = item if kind == "item" else (None, "")
            blocks.append(Block(len(blocks), kind, text, outline_id, label, heading, 1 if kind == "item" else 0))
        pending, kind = [], None

    for raw in source.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        if m := re.match(r"^(#+)\s+(.*)$", line):
            flush()
            heading = m[2]
            n = re.match(r"^(\d+[a-z]?)\.\s", m[2])
            number, count = (n[1] if n else None), 0
            blocks.append(Block(len(blocks), "heading", m[2], number, "", heading, len(m[1])))
            continue
        if m := re.match(r"^(\d+)\.\s+(.*)$", line) or re.match(r"^([-*])\s+(.*)$", line):
            flush()
            count += 1
            own = m[1] if m[1].isdigit() else str(count)
            item = (f"{number}.{own}" if number else None, f"{m[1]}." if m[1].isdigit() else "•")
            kind, pending = "item", [m[2]]
            continue
        if kind is None:
            kind = "paragraph"
        pending.append(line)
    flush()
    return blocks


def parse_source(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return parse_markdown(text) if path.suffix == ".md" else parse_text(text)


def source_path(kb: KnowledgeBase) -> Path:
    """The policy's text: policy.json's "source", relative to the repository (the folder holding kb/)."""
    if not kb.source:
        raise ValueError(f"{kb.id}: policy.json names no \"source\" text")
    for candidate in (kb.root.parent / kb.source, kb.folder / Path(kb.source).name):
        if candidate.is_file():
            return candidate
    raise ValueError(f"{kb.id}: the source text {kb.source} is not in the repository")


# ---------------------------------------------------------------------------- the rule files

@dataclass
class Statement:
    file: Path
    line: int
    end: int
    text: str
    head: str         # the head's predicate name, or "" for a constraint
    key: str | None   # the node the head is about: a criterion id or k(name)
    strings: set      # every string constant in it
    names: set        # every constant and function name in it

    @property
    def site(self) -> str:
        return f"{self.file.name}:{self.line}"


@dataclass
class Chunk:
    """Statements under one comment of a rule file: the comment, often the policy's words."""

    file: Path
    line: int
    comment: list[str]
    statements: list[Statement] = field(default_factory=list)

    @property
    def quotes(self) -> list[tuple[str, str]]:
        """The quotations in the comment: (the words before it on its line, the quotation)."""
        text = " ".join(self.comment)
        return [(m[1], m[2]) for m in re.finditer(r"([\w.]*)\s*\"((?:[^\"]|\"(?=[A-Za-z]+\"))+?)\"", text)
                if len(m[2].split()) >= 3]

    @property
    def readings(self) -> set[str]:
        found = set(re.findall(r"[Rr]eading (\w+)", " ".join(self.comment)))
        for s in self.statements:
            found |= set(re.findall(r"\bchosen\((\w+),", s.text))
            if s.head == "uses" and (m := re.match(r"uses\(.*,\s*(\w+)\)\s*(?::-|\.)", s.text, flags=re.S)):
                found.add(m[1])
        return found


def _node_key(term) -> str | None:
    """A criterion id ("I.D") or a condition's name (k(provocation)) from a head's first argument."""
    if term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.String:
        return term.symbol.string
    if term.ast_type == ast.ASTType.Function and term.name == "k" and term.arguments:
        first = term.arguments[0]
        if first.ast_type == ast.ASTType.SymbolicTerm:
            return f"k({first.symbol})"
        if first.ast_type == ast.ASTType.Function and not first.arguments:
            return f"k({first.name})"
    return None


def _walk(node, strings: set, names: set):
    if isinstance(node, ast.AST):
        if node.ast_type == ast.ASTType.SymbolicTerm:
            sym = node.symbol
            if sym.type == clingo.SymbolType.String:
                strings.add(sym.string)
            elif sym.type == clingo.SymbolType.Function:
                names.add(sym.name)
        elif node.ast_type == ast.ASTType.Function:
            names.add(node.name)
        for key in node.child_keys:
            _walk(getattr(node, key), strings, names)
    elif isinstance(node, (list, tuple)) or type(node).__name__ == "ASTSequence":
        for child in node:
            _walk(child, strings, names)


def _head(stmt) -> tuple[str, str | None]:
    if stmt.ast_type != ast.ASTType.Rule:
        return "", None
    atom = stmt.head
    if atom.ast_type == ast.ASTType.Literal and atom.atom.ast_type == ast.ASTType.SymbolicAtom:
        term = atom.atom.symbol
        if term.ast_type == ast.ASTType.Function:
            return term.name, (_node_key(term.arguments[0]) if term.arguments else None)
    return "", None


def parse_rules(path: Path) -> list[Chunk]:
    """A rule file's statements, each under the comment it stands beneath (up to a blank line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    statements: list[Statement] = []

    def add(stmt):
        if stmt.ast_type not in (ast.ASTType.Rule, ast.ASTType.Definition, ast.ASTType.ShowSignature,
                                 ast.ASTType.ShowTerm, ast.ASTType.Minimize, ast.ASTType.Defined):
            return
        begin, end = stmt.location.begin.line, stmt.location.end.line
        strings, names = set(), set()
        _walk(stmt, strings, names)
        head, key = _head(stmt)
        text = "\n".join(lines[begin - 1:end])
        statements.append(Statement(path, begin, end, text, head, key, strings, names))

    ast.parse_files([str(path)], add)
    code_lines = {n for s in statements for n in range(s.line, s.end + 1)}
    chunks: dict[int, Chunk] = {}
    for s in statements:
        n = s.line - 1  # walk up over the chunk's code to its comment
        while n >= 1 and n in code_lines:
            n -= 1
        comment_end = n
        while n >= 1 and lines[n - 1].lstrip().startswith("%"):
            n -= 1
        start = n + 1 if comment_end >= 1 and lines[comment_end - 1].lstrip().startswith("%") else s.line
        if start not in chunks:
            comment = [lines[i - 1].strip().lstrip("%").rstrip() for i in range(start, comment_end + 1)] \
                if start <= comment_end else []
            chunks[start] = Chunk(path, start, [c.strip() for c in comment if not re.match(r"^\s*=+", c)])
        chunks[start].statements.append(s)
    return [chunks[k] for k in sorted(chunks)]


def floating_quotes(path: Path) -> list[tuple[int, str, str, str]]:
    """Quotations in comments that stand above no statement (a section's lead-in, a sentence with
    nothing to encode): (line, the words before it, the quotation, the whole comment)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, run, start = [], [], 0
    for i, line in enumerate([*lines, ""], start=1):
        if line.lstrip().startswith("%"):
            if not run:
                start = i
            run.append(line.strip().lstrip("%").strip())
            continue
        if run and not line.strip():
            chunk = Chunk(path, start, run)
            found += [(start, before, words, " ".join(run)) for before, words in chunk.quotes]
        run = []
    return found


# ---------------------------------------------------------------------------- the model

@dataclass
class CaseRef:
    path: Path
    case_id: str
    description: str
    determination: str
    status: str


@dataclass
class Encoding:
    """What stands beside one block of the text."""

    criterion: str | None = None          # the clause id it is, if any
    words: str = ""                       # clause/2's words
    chunks: list[Chunk] = field(default_factory=list)      # rules citing it, with their comments
    conditions: list[Chunk] = field(default_factory=list)  # rules of the conditions under it
    plain: str = ""                       # the plain-language line
    tree: list = field(default_factory=list)  # nested (text, children) under the line
    example: str = ""                     # the case the tree's case-dependent parts were read from
    readings: list = field(default_factory=list)
    thresholds: list[tuple[str, str]] = field(default_factory=list)
    cases: dict[str, list[CaseRef]] = field(default_factory=dict)
    coverage: dict | None = None
    findings: list[dict] = field(default_factory=list)
    quoted_by: list[str] = field(default_factory=list)  # comment quotations located here (file:line)
    notes: list[tuple[str, str]] = field(default_factory=list)  # comments above no rule quoting it
    role: str = ""  # criterion, encoded, lead-in, not-encoded


@dataclass
class Document:
    kb: KnowledgeBase
    source: Path
    blocks: list[Block]
    encodings: dict[int, Encoding]
    located: dict[str, int]               # clause id -> the block it is located at
    unlocated: list[str]                  # clause ids whose words the text does not hold where numbered
    without_rule: list[str]               # clause ids no part/2 or status/2 rule evaluates
    uncited: list[str]                    # rules about a criterion id that no clause/2 gives (file:line: id)
    stray_quotes: list[tuple[str, str]]   # (file:line, words) quotations the text does not hold
    loose_quotes: list[tuple[str, str]]   # the same, in comments above no rule (a paraphrase in quotation marks)
    unquoted: list[str]                   # clause ids whose clause/2 stands under no quotation of its words
    general_findings: list[dict]
    coverage_summary: dict | None
    qa_summary: dict | None


def _static(kb: KnowledgeBase) -> dict[tuple[str, int], list[tuple]]:
    index = defaultdict(list)
    for sym in kb.static_atoms:
        index[(sym.name, len(sym.arguments))].append(tuple(sym.arguments))
    return index


def locate(blocks: list[Block], clause_id: str, words: str) -> int | None:
    """The block numbered clause_id whose text, with its outline's headings and items, holds the words."""
    parts = pieces(words)
    for b in blocks:
        if b.outline != clause_id or b.kind == "note":
            continue
        context = " ".join(o.norm for o in blocks if o.outline and (
            o.outline == clause_id or clause_id.startswith(o.outline + ".") or o.outline.startswith(clause_id + ".")
            or (o.kind == "heading" and clause_id.startswith(o.outline))))
        if found_in_order(parts, context):
            return b.index
    return None


def locate_quote(blocks: list[Block], before: str, words: str, prefer: set[int] = frozenset()) -> list[int]:
    """The blocks a comment's quotation comes from, none when the text does not hold every piece of
    it in order: of the blocks holding a piece, those of the criteria its rules name, else the one
    numbered as the words before it say, else those holding its longest piece."""
    parts = pieces(words)
    if not parts or not found_in_order(parts, " ".join(b.norm for b in blocks)):
        return []
    holding = [b.index for b in blocks if any(p in b.norm for p in parts if len(p) >= 12 or p == parts[0])]
    preferred = [i for i in holding if i in prefer]
    if preferred:
        return preferred
    named = [i for i in holding if blocks[i].outline and blocks[i].outline == before.rstrip(".")]
    if named:
        return named
    longest = max(parts, key=len)
    return [b.index for b in blocks if longest in b.norm]


def build(kb: KnowledgeBase, cases: Path | None = None, qa_report: dict | None = None) -> Document:
    """The document's model: the text located, each criterion with what encodes and tests it."""
    source = source_path(kb)
    blocks = parse_source(source)
    static = _static(kb)
    policy_files = [p for p in kb.rule_files if p.parent == kb.folder.resolve()]
    chunks = [c for path in kb.rule_files for c in parse_rules(path)]
    own = [c for c in chunks if c.file in policy_files]
    statements = [s for c in chunks for s in c.statements]
    clauses = kb.clauses

    # Where each criterion stands in the text, and whether a rule evaluates it.
    located, unlocated = {}, []
    for cid in sorted(clauses, key=clause_order):
        index = locate(blocks, cid, clauses[cid])
        if index is None:
            unlocated.append(cid)
        else:
            located[cid] = index
    evaluated = {s.key for s in statements if s.head in ("part", "status") and s.key in clauses}
    without_rule = [cid for cid in sorted(clauses, key=clause_order) if cid not in evaluated]
    # A rule about a criterion names it by its id: one naming an id that no clause/2 gives cites nothing.
    uncited = [f"{s.site}: {s.key}" for c in own for s in c.statements
               if s.head in CRITERION_HEADS and isinstance(s.key, str) and not s.key.startswith("k(")
               and s.key not in clauses]

    encodings: dict[int, Encoding] = defaultdict(Encoding)
    for cid, index in located.items():
        e = encodings[index]
        e.criterion, e.words, e.role = cid, clauses[cid], "criterion"
        e.chunks = [c for c in own if any(_names(s, cid) for s in c.statements) and not _register_only(c)]
        e.conditions = _conditions(cid, chunks, e.chunks)
    encoding = {id(c) for e in encodings.values() for c in [*e.chunks, *e.conditions]}

    # Quotations in the comments: each chunk shown where its quotation is located. Those of the
    # chunks that encode a criterion, and those above no rule, must be found in the text.
    stray, loose = [], []
    for chunk in own:
        names = {located[n] for st in chunk.statements for n in located if _names(st, n)}
        for before, words in chunk.quotes:
            found = locate_quote(blocks, before, words, names)
            if not found and id(chunk) in encoding:
                stray.append((f"{chunk.file.name}:{chunk.line}", words))
            for index in found:
                e = encodings[index]
                e.quoted_by.append(f"{chunk.file.name}:{chunk.line}")
                if chunk not in e.chunks and chunk not in e.conditions and not _register_only(chunk):
                    e.chunks.append(chunk)
    for path in policy_files:
        for line, before, words, comment in floating_quotes(path):
            found = locate_quote(blocks, before, words)
            if not found:
                loose.append((f"{path.name}:{line}", words))
            for index in found:
                encodings[index].quoted_by.append(f"{path.name}:{line}")
                encodings[index].notes.append((f"{path.name}:{line}", comment))

    # Roles: a criterion, encoded by quoted rules, a lead-in to encoded items, or not encoded.
    encoded_outline = {blocks[i].outline for i, e in encodings.items() if e.chunks and blocks[i].outline}
    for b in blocks:
        e = encodings.get(b.index)
        if e and e.role:
            continue
        if e and e.chunks:
            e.role = "encoded"
        elif b.outline and b.kind != "note" and any(o.startswith(b.outline + ".") for o in encoded_outline):
            encodings[b.index].role = "lead-in"
        elif e and e.quoted_by:
            e.role = "quoted"
    unquoted = []
    for cid, index in located.items():
        home = next((c for c in own for s in c.statements if s.head == "clause" and s.key == cid), None)
        if home is None or not any(index in locate_quote(blocks, before, words, {index})
                                   for before, words in home.quotes):
            unquoted.append(cid)

    _add_readings(kb, blocks, encodings, located)
    thresholds = {name.name: str(value) for name, value in static.get(("threshold", 2), [])}
    for e in encodings.values():
        names = {n for c in [*e.chunks, *e.conditions] for s in c.statements for n in _threshold_names(s)}
        e.thresholds = sorted((n, thresholds[n]) for n in names if n in thresholds)

    coverage_summary = None
    if cases is not None:
        coverage_summary = _add_cases(kb, cases, blocks, encodings, located, static)
    general = _add_findings(qa_report, blocks, encodings, located, chunks) if qa_report else []
    qa_summary = None if qa_report is None else {
        k: qa_report.get(k) for k in ("exhaustive", "conflicts", "conflict_limit", "max_procedures", "readings")}
    return Document(kb, source, blocks, dict(encodings), located, unlocated, without_rule, uncited, stray, loose,
                    sorted(unquoted, key=clause_order), general, coverage_summary, qa_summary)


def _names(s: Statement, cid: str) -> bool:
    """Whether a statement is about the criterion: it names its id (section/2's second argument
    names the section a criterion stands in, not a criterion)."""
    return s.key == cid or (cid in s.strings and s.head != "section")


def _register_only(chunk: Chunk) -> bool:
    """A chunk of the interpretations register itself: shown as readings, not as rules."""
    return all(s.head in ("reading", "option", "chosen", "bad_reading") or s.text.startswith("#const")
               for s in chunk.statements)


def _threshold_names(s: Statement) -> list[str]:
    return re.findall(r"\bthreshold\((\w+),", s.text)


def _conditions(cid: str, chunks: list[Chunk], own: list[Chunk]) -> list[Chunk]:
    """The chunks defining the conditions under a criterion, followed along part/2 to other criteria."""
    statements = [s for c in chunks for s in c.statements]
    keys, frontier = set(), [cid]
    while frontier:
        node = frontier.pop()
        for s in statements:
            if s.head == "part" and s.key == node:
                for child in re.findall(r"part\([^,]+(?:\([^)]*\))?,\s*(k\(\w+)", s.text):
                    key = child + ")"
                    if key not in keys:
                        keys.add(key)
                        frontier.append(key)
    return [c for c in chunks if c not in own and any(s.key in keys for s in c.statements)]


def _add_readings(kb, blocks, encodings, located):
    """The readings of the register touching each block: by the register's clause field (ids of
    criteria or sections), and those the block's own rules name."""
    by_outline = defaultdict(list)
    for b in blocks:
        if b.outline and b.kind != "note":
            by_outline[b.outline].append(b.index)
    for reading in kb.readings.values():
        for target in re.split(r",\s*", reading.clause):
            index = located.get(target)
            indices = [index] if index is not None else by_outline.get(target, [])[:1]
            for i in indices:
                if reading not in encodings[i].readings:
                    encodings[i].readings.append(reading)
    for i, e in list(encodings.items()):
        for rid in sorted({r for c in e.chunks for r in c.readings}):
            if rid in kb.readings and kb.readings[rid] not in e.readings:
                e.readings.append(kb.readings[rid])


# ---------------------------------------------------------------------------- cases and coverage

def _add_cases(kb, folder: Path, blocks, encodings, located, static) -> dict:
    from .coverage import find_pairs, ordered_criteria, status_counts
    from .solve import solve

    decided, skipped = load_cases(folder, kb)
    criteria = ordered_criteria(kb.id)
    counts = status_counts(decided, criteria)
    pairs = find_pairs(decided, criteria)
    exclusions = {c.string for (c,) in static.get(("outright_exclusion", 1), [])}
    documents = {}
    for d in decided:
        try:
            documents[d.path] = json.loads(d.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            documents[d.path] = {}

    def ref(d, status):
        doc = documents.get(d.path, {})
        return CaseRef(d.path, d.case.get("case_id", d.path.stem), doc.get("description", ""), d.determination, status)

    for cid, index in located.items():
        e = encodings[index]
        own_first = sorted(decided, key=lambda d: (cid not in d.path.parts, str(d.path)))
        e.cases = {s: [ref(d, s) for d in own_first if d.statuses.get(cid) == s] for s in ("met", "not_met", "unknown")}
        pair = pairs.get(cid)
        e.coverage = {**counts.get(cid, {}), "pair": [str(c.path) for c in pair] if pair else None,
                      "exclusion": cid in exclusions}
        representative = next((c for s in ("met", "not_met", "unknown") for c in e.cases[s]), None)
        answer = None
        if representative is not None:
            d = next(x for x in decided if x.path == representative.path)
            answer = solve(kb, d.case, d.readings, full=True)
            e.example = representative.case_id
        e.plain, e.tree = plain_language(cid, static, answer)
        if (e.plain, e.tree) == plain_language(cid, static, None):
            e.example = ""  # nothing in it depends on the case
    # Blocks encoded without a criterion id (a code in a table): the cases whose facts hold its strings.
    for i, e in encodings.items():
        if e.role != "encoded" or e.criterion:
            continue
        strings = {s for c in e.chunks for st in c.statements if st.head for s in st.strings}
        strings = {s for s in strings if s in blocks[i].text}
        if not strings:
            continue
        matching = [d for d in decided if strings & set(_leaves(d.case))]
        # Those named for what they show first, then one of each determination, then the rest.
        matching.sort(key=lambda d: (not any(x in d.path.name for x in strings), str(d.path)))
        firsts = list({d.determination: d for d in reversed(matching)}.values())[::-1]
        ordered = [*firsts, *(d for d in matching if d not in firsts)]
        e.cases = {"decided": [ref(d, "") for d in ordered]}
    shown = Path(os.path.relpath(folder.resolve(), kb.root.parent.resolve()))
    return {"folder": (shown if not shown.as_posix().startswith("..") else folder).as_posix(), "cases": len(decided), "skipped": len(skipped),
            "without_pair": [c for c in criteria if pairs.get(c) is None and c not in exclusions]}


def load_cases(folder: Path, kb: KnowledgeBase) -> tuple[list, list[Path]]:
    """Every case file under the folder that is decided under this policy, decided together
    (as coverage.load_folder decides them one by one); and the files that are not."""
    from . import decide_many
    from .coverage import decided as read_decided
    from .determination import Determination

    from .case import case_document
    from .knowledge import DEFAULT_POLICY

    paths, documents, skipped = [], [], []
    for path in sorted(folder.rglob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            named = case_document(content)[0].get("policy", DEFAULT_POLICY)
        except (OSError, ValueError, AttributeError):
            named = kb.id  # decided below, and listed as not decided
            content = None
        if named == kb.id:
            paths.append(path)
            documents.append(content)
        else:
            skipped.append(path)
    try:
        results = decide_many(documents)
    except ValueError:  # rules the many-case rewriting does not take: one case at a time
        results = [_decide_one(document) for document in documents]
    decided = []
    for path, result in zip(paths, results):
        if isinstance(result, Determination) and result.policy["id"] == kb.id:
            decided.append(read_decided(result, path))
        else:
            skipped.append(path)
    return decided, skipped


def _decide_one(document):
    from . import decide

    try:
        return decide(document)
    except Exception as e:  # noqa: BLE001 -- the file is listed as not decided, with the others
        return e


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, str):
        yield value


# ---------------------------------------------------------------------------- plain language

def _value_text(sym) -> str:
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function and sym.name == "" and sym.arguments:
        return path_text(symbol_path(sym))
    return str(sym)


def plain_language(cid: str, static: dict, answer=None) -> tuple[str, list]:
    """The criterion's condition tree in words, from the static facts and, for the parts that
    depend on the case, the answer set of a representative case."""
    facts = defaultdict(list)
    for key, rows in static.items():
        facts[key] += rows
    if answer is not None:
        for name, arity in (("part", 2), ("label", 2), ("all_of", 1), ("any_of", 1), ("at_least", 2), ("agree", 1),
                            ("leaf", 1), ("expect", 3), ("documented", 2), ("reads", 2), ("clause", 2)):
            seen = set(facts[(name, arity)])
            facts[(name, arity)] += [r for r in answer.args(name, arity) if r not in seen]
    parts = defaultdict(list)
    for parent, child in facts[("part", 2)]:
        if child not in parts[node_id(parent)]:
            parts[node_id(parent)].append(child)
    labels = {node_id(n): t.string for n, t in facts[("label", 2)]}
    words = {c.string: t.string for c, t in facts[("clause", 2)]}
    all_of = {node_id(n) for (n,) in facts[("all_of", 1)]}
    any_of = {node_id(n) for (n,) in facts[("any_of", 1)]}
    agree = {node_id(n) for (n,) in facts[("agree", 1)]}
    at_least = {node_id(n): k.number for n, k in facts[("at_least", 2)]}
    expects = defaultdict(list)
    for n, path, value in facts[("expect", 3)]:
        expects[node_id(n)].append((path_text(symbol_path(path)), _value_text(value)))
    documented = {node_id(n): path_text(symbol_path(p)) for n, p in facts[("documented", 2)]}
    reads = defaultdict(list)
    for n, p in facts[("reads", 2)]:
        text = path_text(symbol_path(p))
        if text not in reads[node_id(n)]:
            reads[node_id(n)].append(text)

    def name(node: str) -> str:
        if node in words and node != cid:
            return f"criterion {node} ({words[node]})"
        return labels.get(node, node)

    def rule(node: str) -> str:
        """How the node is met, as words: a combination of its parts, or what the case must say."""
        children = parts.get(node, [])
        n = len(children)
        if node in at_least:
            return f"met when at least {at_least[node]} of these {n} hold"
        if node in any_of:
            return "met when any one of these holds" if n > 1 else "met when this holds"
        if node in agree:
            return ("met when these hold however the record's open points are read" if n > 1
                    else "met when this holds however the record's open points are read")
        if node in all_of and children:
            return f"met when all of these {n} hold" if n > 1 else "met when this holds"
        if node in expects:
            by_path = defaultdict(list)
            for path, value in expects[node]:
                by_path[path].append(value)
            return " and ".join(f"{p} is {' or '.join(v)}" for p, v in by_path.items())
        if node in documented:
            return f"{documented[node]} is documented"
        if node in reads:
            return "from " + ", ".join(reads[node])
        return ""

    def tree(node: str, depth: int) -> list:
        out = []
        for child in parts.get(node, []):
            cnode = node_id(child)
            how = rule(cnode) if cnode not in words else ""
            line = f"{name(cnode)} \u2014 {how}" if how else name(cnode)
            out.append((line, tree(cnode, depth + 1) if depth < 3 and cnode not in words else []))
        return out

    how = rule(cid)
    line = f"{cid} is {how}:" if how.startswith("met when") else (f"{cid} is met when {how}." if how else
                                                                 f"{cid} is evaluated by the rules below.")
    return line, tree(cid, 1)


# ---------------------------------------------------------------------------- QA findings

def _add_findings(report: dict, blocks, encodings, located, chunks) -> list[dict]:
    """Each finding beside what it concerns: a criterion its subject names, a rule its site
    names, the sections an overlap names; the rest (kinds of request, guards) apart."""
    by_outline = {}
    for b in blocks:
        if b.outline and b.kind in ("item", "heading") and b.outline not in by_outline:
            by_outline[b.outline] = b.index
    site_block = {}
    for i, e in encodings.items():
        for c in [*e.chunks, *e.conditions]:
            for s in c.statements:
                site_block.setdefault(s.site, i)
    general = []
    for f in report.get("findings", []):
        entry = {k: f.get(k) for k in ("check", "subject", "detail", "rule_kind", "verified")}
        subject = f.get("subject", "")
        targets = []
        if subject in located:
            targets = [located[subject]]
        elif subject in site_block:
            targets = [site_block[subject]]
        elif " / " in subject:
            targets = [located.get(p, by_outline.get(p)) for p in subject.split(" / ")]
            targets = [t for t in targets if t is not None]
        for t in targets:
            encodings[t].findings.append(entry)
        if not targets:
            general.append(entry)
    return general


# ---------------------------------------------------------------------------- HTML

def esc(text) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """The source's own light markup shown as such: **strong**, *emphasis*, [words](#)."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)
    out = re.sub(r"\[([^\]]+)\]\(#\)", r"\1", out)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def _rel(path: Path, output: Path | None) -> str:
    base = (output.parent if output else Path.cwd()).resolve()
    return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()


def _chunk_html(chunk: Chunk, root: Path, cid: str | None) -> str:
    where = Path(os.path.relpath(chunk.file, root)).as_posix()
    comment = "\n".join(chunk.comment)
    code = []
    for s in chunk.statements:
        text = esc(s.text)
        cls = " class=\"cites\"" if cid and _names(s, cid) else ""
        code.append(f"<span{cls} data-line=\"{s.line}\">{text}</span>")
    return (f"<figure class=\"rule\"><figcaption>{esc(where)}:{chunk.line}</figcaption>"
            + (f"<pre class=\"comment\">{esc(comment)}</pre>" if comment else "")
            + f"<pre class=\"asp\">{''.join(code)}</pre></figure>")


def _tree_html(tree: list) -> str:
    if not tree:
        return ""
    return "<ul>" + "".join(f"<li>{esc(line)}{_tree_html(sub)}</li>" for line, sub in tree) + "</ul>"


STATUS_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown", "decided": "cases holding it"}


def _cases_html(cases: dict[str, list[CaseRef]], output: Path | None) -> str:
    cols = []
    for status, refs in cases.items():
        items = "".join(
            f"<li><a href=\"{esc(_rel(r.path, output))}\" title=\"{esc(r.description)}\">{esc(r.case_id)}</a>"
            f" <span class=\"det det-{esc(r.determination)}\">{esc(r.determination.replace('_', ' '))}</span></li>"
            for r in refs[:CASES_SHOWN])
        more = f"<li class=\"more\">and {len(refs) - CASES_SHOWN} more</li>" if len(refs) > CASES_SHOWN else ""
        empty = "<li class=\"none\">no suite case</li>" if not refs else ""
        tally = ""
        if status == "decided" and refs:
            by = defaultdict(int)
            for r in refs:
                by[r.determination] += 1
            tally = "<p class=\"small\">" + ", ".join(f"{n} {esc(d.replace('_', ' '))}" for d, n in sorted(by.items())) + "</p>"
        cols.append(f"<div class=\"cases-{status}\"><h5>{STATUS_WORDS[status]} ({len(refs)})</h5>{tally}"
                    f"<ul>{items}{more}{empty}</ul></div>")
    wide = " wide" if list(cases) == ["decided"] else ""
    return f"<div class=\"cases{wide}\">{''.join(cols)}</div>"


def _readings_html(readings: list) -> str:
    out = []
    for r in readings:
        fixed = len(r.options) < 2
        options = "".join(
            f"<li class=\"{'applied' if choice == r.default else 'alternative'}\"><code>{esc(choice)}</code>"
            f"{' <span class=badge-applied>applied</span>' if choice == r.default else ''} {esc(meaning)}</li>"
            for choice, meaning in r.options.items())
        note = "fixed in the rules; its alternative is in the words" if fixed else \
            f"switchable: <code>--reading {esc(r.id)}=CHOICE</code>"
        out.append(f"<div class=\"reading\"><p><code>{esc(r.id)}</code> ({esc(r.clause)}): {esc(r.question)} "
                   f"<span class=\"small\">{note}</span></p><ul>{options}</ul></div>")
    return "".join(out)


def _findings_html(findings: list[dict]) -> str:
    if not findings:
        return ""
    items = "".join(f"<li><span class=\"check\">{esc(f['check'].replace('_', ' '))}</span> "
                    f"<code>{esc(f['subject'])}</code>: {esc(f['detail'])}"
                    f"{' (' + esc(f['rule_kind']) + ')' if f.get('rule_kind') else ''}</li>" for f in findings)
    return f"<ul class=\"findings\">{items}</ul>"


def _coverage_html(c: dict | None) -> str:
    if not c:
        return ""
    pair = "n/a (outright exclusion)" if c["exclusion"] else ("yes" if c["pair"] else "<strong>missing</strong>")
    return (f"<p class=\"coverage\">Suite coverage: <span class=\"n-met\">{c.get('met', 0)} met</span> · "
            f"<span class=\"n-not_met\">{c.get('not_met', 0)} not met</span> · "
            f"<span class=\"n-unknown\">{c.get('unknown', 0)} unknown</span> · MC/DC pair: {pair}</p>")


def _panel(doc: Document, block: Block, e: Encoding, output: Path | None) -> str:
    root = doc.kb.root.parent
    out = []
    if e.criterion:
        out.append(f"<h4 class=\"crit\">Criterion {esc(e.criterion)}</h4>")
        out.append(_coverage_html(e.coverage))
        out.append(f"<p class=\"plain\">{esc(e.plain)}</p>{_tree_html(e.tree)}")
        if e.example:
            out.append(f"<p class=\"small\">Conditions that depend on the record as evaluated for the case "
                       f"<code>{esc(e.example)}</code>.</p>")
    elif e.role == "encoded":
        out.append("<h4 class=\"enc\">Encoded</h4>")
    elif block.outline:
        out.append(f"<h4 class=\"lead\">{esc(block.outline)}: what concerns its criteria together</h4>")
    if e.thresholds:
        out.append("<p class=\"thresholds\">Thresholds: " + ", ".join(
            f"<code>{esc(n)}</code> = <strong>{esc(v)}</strong>" for n, v in e.thresholds) + "</p>")
    if e.readings:
        out.append(f"<h5>Readings ({len(e.readings)})</h5>{_readings_html(e.readings)}")
    if e.chunks:
        out.append(f"<h5>Rules</h5>{''.join(_chunk_html(c, root, e.criterion) for c in e.chunks)}")
    if e.conditions:
        n = sum(len(c.statements) for c in e.conditions)
        out.append(f"<details class=\"conditions\"><summary>The conditions under it: {n} rules</summary>"
                   f"{''.join(_chunk_html(c, root, None) for c in e.conditions)}</details>")
    if e.cases:
        out.append(f"<h5>Suite cases</h5>{_cases_html(e.cases, output)}")
    if e.findings:
        out.append(f"<h5>QA findings ({len(e.findings)})</h5>{_findings_html(e.findings)}")
    return "".join(out)


def _badge(block: Block, e: Encoding | None) -> str:
    role = e.role if e else ""
    if role == "criterion":
        return f"<span class=\"badge b-criterion\">criterion {esc(e.criterion)}</span>"
    if role == "encoded":
        return "<span class=\"badge b-encoded\">encoded</span>"
    if role == "lead-in":
        return "<span class=\"badge b-lead\">lead-in: its items are encoded</span>"
    if role == "quoted":
        notes = " ".join(esc(comment) for _, comment in e.notes)
        return ("<span class=\"badge b-none\">not encoded: the rules say why</span>"
                + (f"<span class=\"why\">{notes}</span>" if notes else ""))
    if block.kind == "heading":
        return ""
    if block.kind == "page_header":
        return "<span class=\"badge b-none\">not encoded: page header</span>"
    where = block.heading or "front matter"
    return f"<span class=\"badge b-none\">not encoded: {esc(where)}</span>"


def _block_html(doc: Document, block: Block, output: Path | None) -> str:
    e = doc.encodings.get(block.index)
    role = (e.role if e else "") or "none"
    ident = f" id=\"c-{_slug(e.criterion)}\"" if e and e.criterion else ""
    number = f"<span class=\"num\">{esc(block.label)}</span> " if block.label else ""
    if block.kind == "heading":
        tag = f"h{min(max(block.level, 2), 4)}"
        text = f"<{tag} class=\"src-heading\">{number}{_inline(block.text)}</{tag}>"
    elif block.kind == "row":
        cells = "".join(f"<span class=\"cell\">{_inline(c)}</span>" for c in block.text.split("\t"))
        text = f"<p class=\"src-row\">{cells}</p>"
    else:
        text = f"<p class=\"src-{block.kind}\">{number}{_inline(block.text)}</p>"
    shown = e and (role in ("criterion", "encoded") or e.readings or e.findings)
    panel = _panel(doc, block, e, output) if shown else ""
    indent = f" style=\"--indent:{max(block.level - 1, 0)}\"" if block.kind in ("item", "note") else ""
    return (f"<section class=\"row role-{role} kind-{block.kind}\"{ident} data-block=\"{block.index}\"{indent}>"
            f"<div class=\"text\">{text}{_badge(block, e)}</div>"
            f"<aside class=\"encoding\">{panel}</aside></section>")


def render(doc: Document, output: Path | None = None) -> str:
    """The document as one self-contained HTML page (style and script inline, nothing fetched)."""
    kb = doc.kb
    blocks = "\n".join(_block_html(doc, b, output) for b in doc.blocks)
    roles = defaultdict(int)
    for b in doc.blocks:
        e = doc.encodings.get(b.index)
        roles[(e.role if e else "") or "none"] += 1
    criteria = sorted(doc.located, key=clause_order)
    toc = " ".join(f"<a href=\"#c-{_slug(c)}\">{esc(c)}</a>" for c in criteria)
    overview = _overview(doc, criteria)
    intro = ("The restatement of the policy that the rules encode (not the policy's own text)" if kb.restatement
             else "The policy's own text")
    restatement = (f"<p class=\"restatement\"><strong>A restatement, not the policy's own text.</strong> "
                   f"{esc(kb.restatement)}</p>") if kb.restatement else ""
    problems = []
    if doc.unlocated:
        problems.append("criteria whose words the text does not hold where numbered: " + ", ".join(doc.unlocated))
    if doc.without_rule:
        problems.append("criteria no rule evaluates: " + ", ".join(doc.without_rule))
    if doc.uncited:
        problems.append("rules about an id that is no criterion of the policy: " + "; ".join(doc.uncited))
    if doc.stray_quotes:
        problems.append("quotations in the rules the text does not hold: "
                        + "; ".join(f"{site} \u201c{words}\u201d" for site, words in doc.stray_quotes))
    checks = ("<p class=\"problems\">" + "<br>".join(esc(p) for p in problems) + "</p>") if problems else \
        ("<p class=\"checks\">Every criterion (clause/2) is located in the text where it is numbered and has a "
         "rule that evaluates it; every quotation above the rules that encode a criterion is found in the text.</p>")
    if doc.loose_quotes:
        checks += ("<p class=\"warnings\">Quotation marks in comments above no rule around words the text does not "
                   "hold: " + esc("; ".join(f"{site} \u201c{words}\u201d" for site, words in doc.loose_quotes)) + ".</p>")
    if doc.unquoted:
        checks += ("<p class=\"warnings\">Criteria whose clause/2 fact stands under no quotation of the policy's "
                   "words (the text it encodes is not right above it): " + esc(", ".join(doc.unquoted)) + ".</p>")
    cov = doc.coverage_summary
    coverage = (f"{cov['cases']} suite case files under <code>{esc(cov['folder'])}</code>; criteria without an "
                f"MC/DC pair: {esc(', '.join(cov['without_pair']) or 'none')}.") if cov else "No suite cases were given."
    qa = doc.qa_summary
    qa_line = ("No QA report was given." if qa is None else
               f"QA over the whole input space ({'exhaustive' if qa['exhaustive'] else 'NOT exhaustive'}, "
               f"{qa['conflicts']} solver conflicts, up to {qa['max_procedures']} prior procedures), "
               f"readings as in the register.")
    general = _findings_html(doc.general_findings) or "<p>None.</p>"
    if any(f.get("rule_kind") for f in doc.general_findings):  # what (guard), (shared)... mean, as QA's report says it
        general += f"<p class=\"small\">Rules that never fire: {esc(dict((c, n) for c, _, n in CHECK_TITLES)['dead_rule'])}.</p>"
    source_rel = Path(os.path.relpath(doc.source, kb.root.parent)).as_posix()
    values = {
        "title": esc(f"{kb.id}: {kb.title}"),
        "policy": esc(kb.id),
        "revision": esc(kb.revision),
        "ptitle": esc(kb.title),
        "digest": esc(kb.digest),
        "source": esc(source_rel),
        "restatement": restatement,
        "intro": esc(intro),
        "head": esc(f"{kb.id} revision {kb.revision}" + (" \u2014 a restatement, not the policy's own text"
                                                          if kb.restatement else "")),
        "checks": checks,
        "counts": esc(f"{len(criteria)} criteria; {roles['criterion'] + roles['encoded']} passages encoded, "
                      f"{roles['lead-in'] + roles['quoted']} lead-ins, {roles['none']} not encoded"),
        "coverage": coverage,
        "qa": esc(qa_line),
        "toc": toc,
        "overview": overview,
        "blocks": blocks,
        "general": general,
        "style": STYLE.read_text(encoding="utf-8") + _page_css(kb),
        "script": SCRIPT.read_text(encoding="utf-8"),
    }
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)


def _overview(doc: Document, criteria: list[str]) -> str:
    """One line per criterion: its words, what the suite shows of it, its readings and findings."""
    rows = []
    for cid in criteria:
        e = doc.encodings[doc.located[cid]]
        c = e.coverage or {}
        pair = "" if not e.coverage else ("n/a" if c["exclusion"] else ("yes" if c["pair"] else "<strong>missing</strong>"))
        counts = "".join(f"<td class=\"n n-{s}\">{c.get(s, '')}</td>" for s in ("met", "not_met", "unknown"))
        rows.append(f"<tr><td><a href=\"#c-{_slug(cid)}\">{esc(cid)}</a></td><td class=\"words\">{esc(e.words)}</td>"
                    f"{counts}<td>{pair}</td><td class=\"n\">{len(e.readings)}</td><td class=\"n\">{len(e.findings)}</td></tr>")
    return ("<table class=\"overview\"><thead><tr><th>criterion</th><th>the policy's words (clause/2)</th>"
            "<th>met</th><th>not met</th><th>unknown</th><th>MC/DC pair</th><th>readings</th><th>QA findings</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_css(kb: KnowledgeBase) -> str:
    """Every printed page names the policy, its revision and the knowledge base's digest (page margin boxes)."""
    head = f"{kb.id} revision {kb.revision}" + (" \u2014 a restatement, not the policy's own text" if kb.restatement else "")
    return ("\n@page {\n"
            f"  @top-left {{ content: {_css_string(head)}; font: 8pt sans-serif; color: #333; }}\n"
            f"  @top-right {{ content: {_css_string(kb.title)}; font: 8pt sans-serif; color: #333; }}\n"
            f"  @bottom-left {{ content: {_css_string('knowledge base ' + kb.digest)}; font: 7pt monospace; color: #333; }}\n"
            "  @bottom-right { content: \"page \" counter(page) \" of \" counter(pages); font: 8pt sans-serif; color: #333; }\n"
            "}\n")


def write(kb: KnowledgeBase, output: Path, cases: Path | None = None, qa_report: dict | None = None) -> Document:
    doc = build(kb, cases, qa_report)
    output.write_text(render(doc, output), encoding="utf-8")
    return doc
