"""A policy folder under kb/: its metadata, case schema, rule files, readings and digest.

Knows nothing of any one policy: everything policy-specific is read from the folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import clingo
from clingo import ast

from .derived import derived
from .facts import INPUTS
from .program import CaseProgram, decision_program, tag_cases
from .symbols import is_name


def kb_root() -> Path:
    return Path(str(resources.files("kbquery.kb")))


def policies(root: Path | None = None) -> list[str]:
    return sorted(p.name for p in (root or kb_root()).iterdir() if (p / "policy.json").is_file())


def default_policy(root: Path | None = None) -> str:
    """The policy a case that names none is decided under: the one whose policy.json says "default": true."""
    root = root or kb_root()
    marked = [name for name in policies(root)
              if json.loads((root / name / "policy.json").read_text(encoding="utf-8")).get("default") is True]
    if len(marked) != 1:
        raise UnknownPolicy(f"exactly one policy under {root} must say \"default\": true in its policy.json "
                            f"(found {len(marked)}: {', '.join(marked) or 'none'})")
    return marked[0]


class UnknownPolicy(ValueError):
    pass


@dataclass(frozen=True)
class Reading:
    id: str
    clause: str
    question: str
    options: dict  # choice -> meaning
    default: str


DEFAULT_POLICY = default_policy()


class KnowledgeBase:
    """One policy's knowledge base, loaded once and reused for every case."""

    def __init__(self, policy: str = DEFAULT_POLICY, root: Path | None = None):
        root = Path(root) if root is not None else kb_root()
        if policy not in policies(root):
            raise UnknownPolicy(f"no policy {policy!r} under {root} (known: {', '.join(policies(root))})")
        self.root = root
        self.folder = folder = root / policy
        self.meta = json.loads((folder / "policy.json").read_text(encoding="utf-8"))
        self.id = self.meta["id"]
        self.revision = self.meta["revision"]
        self.title = self.meta.get("title", "")
        self.source = self.meta.get("source", "")
        # A policy encoded from a restatement (not the verbatim text) says so: a short notice, or absent.
        self.restatement = self.meta.get("restatement")
        self.rule_files = [(folder / name).resolve() for name in self.meta["rules"]]
        self.schema = json.loads((folder / self.meta["schema"]).read_text(encoding="utf-8"))
        self.program = "\n".join(p.read_text(encoding="utf-8") for p in self.rule_files)

    @functools.cached_property
    def digest(self) -> str:
        """sha256 over the rule files and the schema, so a determination can be reproduced."""
        h = hashlib.sha256()
        for path in [*self.rule_files, self.folder / self.meta["schema"]]:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return "sha256:" + h.hexdigest()

    @functools.cached_property
    def statements(self) -> list:
        """The rules parsed once; each case's Control takes them as they are, without parsing again."""
        parsed: list = []
        ast.parse_string(self.program, parsed.append)
        return parsed

    @functools.cached_property
    def case_program(self) -> CaseProgram:
        """The rules rewritten so that many cases solve in one Control, each atom tagged by case."""
        return _case_program("case_program", self.program, lambda: self.statements)

    @functools.cached_property
    def decision_statements(self) -> list:
        """The rules a determination needs (kbquery.program.decision_program): the same shown atoms,
        without what only an explanation reads."""
        return derived("decision", self.program, lambda: (decision_program(self.statements), {}))[0]

    @functools.cached_property
    def decision_case_program(self) -> CaseProgram:
        """The decision-only rules tagged by case, as case_program is the whole program's."""
        return _case_program("decision_case_program", self.program, lambda: self.decision_statements)

    @functools.cached_property
    def static_atoms(self) -> list[clingo.Symbol]:
        """What the rules say before any case: clauses, the register, thresholds."""
        ctl = clingo.Control(["--warn=none"])
        ctl.add("base", [], self.program)
        ctl.ground([("base", [])])
        return [a.symbol for a in ctl.symbolic_atoms if a.is_fact]

    def static(self, name: str, arity: int) -> list[tuple]:
        return [tuple(s.arguments) for s in self.static_atoms if s.match(name, arity)]

    @functools.cached_property
    def clauses(self) -> dict[str, str]:
        """Every criterion the rules encode, with the policy's words."""
        return {c.string: t.string for c, t in self.static("clause", 2)}

    @functools.cached_property
    def readings(self) -> dict[str, Reading]:
        """The interpretations register, read from the rules themselves."""
        options: dict[str, dict] = {}
        for rid, choice, meaning in self.static("option", 3):
            options.setdefault(rid.name, {})[choice.name] = meaning.string
        chosen = {rid.name: choice.name for rid, choice in self.static("chosen", 2)}
        return {rid.name: Reading(rid.name, clause.string, question.string, options[rid.name], chosen[rid.name])
                for rid, clause, question in sorted(self.static("reading", 3))}

    def reading_options(self, chosen: dict[str, str] | None) -> list[str]:
        """clingo `-c` options for switched readings, each checked against the register first."""
        args = []
        for rid, choice in (chosen or {}).items():
            reading = self.readings.get(rid)
            if reading is None:
                raise ValueError(f"unknown reading {rid!r} (known: {', '.join(self.readings)})")
            if choice not in reading.options or not is_name(choice):
                raise ValueError(f"reading {rid!r} has no choice {choice!r} (choices: {', '.join(reading.options)})")
            if len(reading.options) < 2:
                raise ValueError(f"reading {rid!r} is fixed in the rules and cannot be switched")
            args += ["-c", f"reading_{rid}={choice}"]
        return args


def scoped_readings(readings: dict[str, str] | None, kbs: list[KnowledgeBase]) -> dict[KnowledgeBase, dict[str, str]]:
    """The readings a caller switched, given to each policy whose register offers that choice (a
    reading of one policy's clause is not the other's, even under the same id). A choice no policy
    offers is a ValueError, with the register's own message."""
    scoped: dict[KnowledgeBase, dict[str, str]] = {kb: {} for kb in kbs}
    for rid, choice in (readings or {}).items():
        errors = []
        for kb in kbs:
            try:
                kb.reading_options({rid: choice})
                scoped[kb][rid] = choice
            except ValueError as e:
                errors.append(str(e))
        if not any(rid in chosen for chosen in scoped.values()):
            raise ValueError(next((e for e in errors if not e.startswith("unknown")), errors[0]) if errors
                             else f"unknown reading {rid!r}")
    return scoped


def _case_program(label: str, rules: str, statements: Callable[[], list]) -> CaseProgram:
    """tag_cases of `statements()`, derived once per machine (kbquery.derived): called only when
    the cache does not hold it."""
    def make():
        p = tag_cases(statements(), INPUTS)
        return p.statements, {"tagged": sorted(p.tagged), "once": sorted(p.once)}
    found, meta = derived(label, rules, make)
    return CaseProgram(found, frozenset(meta["tagged"]), frozenset((name, arity) for name, arity in meta["once"]))


@functools.lru_cache(maxsize=None)
def knowledge_base(policy: str = DEFAULT_POLICY, root: Path | None = None) -> KnowledgeBase:
    """The knowledge base of a policy, loaded once: from the installed kb/, or another root."""
    return KnowledgeBase(policy, root)
