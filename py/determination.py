"""Reading the answer set back into a determination (shared/spec/determination.md)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import clingo

from .knowledge import KnowledgeBase
from .solve import Answer
from .symbols import path_text, symbol_path, to_python

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _roman(text: str) -> int | None:
    if not text or any(c not in _ROMAN for c in text):
        return None
    values = [_ROMAN[c] for c in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


@functools.lru_cache(maxsize=4096)  # a few hundred clause ids, sorted again for every case
def clause_order(cid: str) -> tuple:
    """Outline order of clause ids, Roman or Arabic: I.A < I.G.1.a < II.A < IV < V.C.1 < VI;
    1 < 1.1 < 1.5 < 1a.1 < 1b.3 < 2.4."""
    head, *rest = cid.split(".")
    arabic = re.fullmatch(r"(\d+)([a-z]*)", head)
    first = (int(arabic[1]), arabic[2]) if arabic else (_roman(head) or 0, "")
    return (first, *[(int(p), "") if p.isdigit() else (0, p) for p in rest])


# Reading a symbol is a call into clingo per property; a batch meets the same nodes and values in
# case after case, so what a symbol reads as is kept (symbols are values: equal ones read alike).
@functools.lru_cache(maxsize=1 << 16)
def text(sym: clingo.Symbol) -> str:
    """A symbol as text: a string's own characters, a constant's name, any other term as clingo writes it."""
    return sym.string if sym.type == clingo.SymbolType.String else str(sym)


node_id = text  # a stable id for a node of the tree: the clause id itself, or the term's text


@functools.lru_cache(maxsize=1 << 16)
def render(sym: clingo.Symbol) -> str:
    """A say/3 argument as text. Besides values and paths, two presentation terms:
    count(N, Singular, Plural) reads "1 month" or "2 months"; decimal(N, Places) is N / 10**Places."""
    if sym.match("count", 3):
        n, one, many = sym.arguments
        return f"{n.number} {one.string if n.number == 1 else many.string}"
    if sym.match("decimal", 2):
        n, places = (a.number for a in sym.arguments)
        whole, part = divmod(abs(n), 10 ** places)
        digits = f"{part:0{places}d}".rstrip("0")
        return ("-" if n < 0 else "") + str(whole) + (f".{digits}" if digits else "")
    if sym.type == clingo.SymbolType.Function and sym.name == "" and sym.arguments and all(
        a.type in (clingo.SymbolType.Function, clingo.SymbolType.Number) for a in sym.arguments
    ) and sym.arguments[0].type == clingo.SymbolType.Function and not sym.arguments[0].arguments:
        return path_text(symbol_path(sym))
    value = to_python(sym)
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class Criterion:
    id: str
    status: str
    text: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Determination:
    case_id: str
    policy: dict
    determination: str
    request_kind: str
    governing_sections: list[str]
    criteria: list[Criterion]
    missing: dict[str, list[str]]
    warnings: list[dict]
    interpretation: list[dict]
    kb_digest: str
    answer: Answer = field(repr=False, compare=False)
    case: dict = field(repr=False, compare=False, default_factory=dict)
    readings: dict = field(repr=False, compare=False, default_factory=dict)
    kb: KnowledgeBase | None = field(repr=False, compare=False, default=None)

    @property
    def unmet(self) -> list[str]:
        """The not-met criteria the determination rests on (determination.lp's unmet/1), in outline order."""
        return sorted((text(c) for (c,) in self.answer.args("unmet", 1)), key=clause_order)

    def _repr_html_(self) -> str:
        """Jupyter: the criteria as a table with status colours (kbquery.notebook.criteria_html)."""
        from .notebook import criteria_html
        return criteria_html(self)

    def to_dict(self) -> dict:
        return {
            "case_id": self.case_id,
            "policy": self.policy,
            "determination": self.determination,
            "request_kind": self.request_kind,
            "governing_sections": self.governing_sections,
            "criteria": [{"id": c.id, "status": c.status, "text": c.text} for c in self.criteria],
            "unmet": self.unmet,
            "reasons": {c.id: c.reasons for c in self.criteria if c.reasons},
            "missing": self.missing,
            "warnings": self.warnings,
            "interpretation": self.interpretation,
            "kb_digest": self.kb_digest,
        }


class Tree:
    """The evaluated condition tree of an answer set: statuses, parts and what each leaf saw.

    From a full answer set it is the whole tree; from the shown atoms, the reasons' leaves."""

    def __init__(self, answer: Answer):
        self.status = {node_id(n): text(s) for n, s in answer.args("status", 2)}
        self.parts: dict[str, list[str]] = {}
        for parent, child in answer.args("part", 2):
            self.parts.setdefault(node_id(parent), []).append(node_id(child))
        for children in self.parts.values():
            children.sort(key=lambda c: (0, clause_order(c)) if not c.startswith("k(") else (1, c))
        self.labels = {node_id(n): text(t) for n, t in answer.args("label", 2)}
        self.says: dict[str, list[str]] = {}
        for n, template, args in answer.args("say", 3):
            self.says.setdefault(node_id(n), []).append(text(template).format(*map(render, args.arguments)))
        self.observed: dict[str, list[str]] = {}
        for n, p, v in answer.args("observed", 3):
            self.observed.setdefault(node_id(n), []).append(f"{render(p)} is {render(v)}")
        for values in (*self.says.values(), *self.observed.values()):
            values.sort()
        self.sections = {text(c): text(s) for c, s in answer.args("section", 2)}
        self.readings: dict[str, list[str]] = {}
        for n, r in answer.args("uses", 2):
            self.readings.setdefault(node_id(n), []).append(text(r))
        self.reads: dict[str, list[tuple]] = {}
        for n, p in answer.args("reads", 2):
            self.reads.setdefault(node_id(n), []).append(symbol_path(p))
        self.values = {symbol_path(p): render(v) for p, v in answer.args("value", 2)}
        self.present = {symbol_path(p) for (p,) in answer.args("present", 1)}
        for p, n in answer.args("length", 2):  # a list of scalars reads as its items
            path = symbol_path(p)
            items = [self.values[path + (i,)] for i in range(n.number) if path + (i,) in self.values]
            if len(items) == n.number:
                self.values[path] = "[" + ", ".join(items) + "]"
        for table in (self.readings, self.reads):
            for values in table.values():
                values.sort(key=str)

    def statement(self, node: str) -> str:
        """What a node requires and what the case showed, in words."""
        shown = self.says.get(node) or self.observed.get(node) or []
        label = self.labels.get(node, node)
        return f"{label}: {'; '.join(shown)}" if shown else label



def read(answer: Answer, kb: KnowledgeBase, case: dict, readings: dict | None = None) -> Determination:
    """A determination from the answer set's shown atoms (the interface determination.lp #shows)."""
    tree = Tree(answer)
    statuses = {text(c): text(s) for c, s in answer.args("criterion", 2)}
    leaves: dict[str, list[str]] = {}
    for c, leaf in answer.args("reason", 2):
        leaves.setdefault(text(c), []).append(node_id(leaf))
    criteria = []
    for cid in sorted(statuses, key=clause_order):
        reasons = sorted({tree.statement(leaf) for leaf in leaves.get(cid, [])})
        criteria.append(Criterion(cid, statuses[cid], kb.clauses[cid], reasons))
    missing: dict[str, list[str]] = {}
    for cid, path in answer.args("missing", 2):
        missing.setdefault(text(cid), []).append(path_text(symbol_path(path)))
    applied = sorted(text(r) for (r,) in answer.args("applied", 1))
    chosen = {text(r): text(c) for r, c in answer.args("chosen", 2)}
    (kind,) = answer.first("kind", 1)
    (determination,) = answer.first("determination", 1)
    return Determination(
        case_id=case["case_id"],
        policy={"id": kb.id, "revision": kb.revision},
        determination=text(determination),
        request_kind=text(kind),
        governing_sections=sorted({text(s) for (s,) in answer.args("governing", 1)}, key=clause_order),
        criteria=criteria,
        missing={c: sorted(set(p)) for c, p in sorted(missing.items(), key=lambda kv: clause_order(kv[0]))},
        warnings=sorted(({"clause": text(c), "text": text(t)} for c, t in answer.args("warning", 2)),
                        key=lambda w: (clause_order(w["clause"]), w["text"])),
        interpretation=[{"id": r, "clause": kb.readings[r].clause, "reading": chosen[r],
                         "meaning": kb.readings[r].options[chosen[r]]} for r in applied],
        kb_digest=kb.digest,
        answer=answer,
        case=case,
        readings=dict(readings or {}),
        kb=kb,
    )
