"""Programs derived from the rules (kbquery.program), kept on disk between processes.

Rewriting the rules' AST through clingo's Python API costs most of a second per program; parsing
the result back costs a hundredth. Every batch worker, service and notebook process starts with
the same derivations, so each result is kept in the user's cache directory (KBQUERY_CACHE, else
$XDG_CACHE_HOME/kbquery or ~/.cache/kbquery; KBQUERY_CACHE=off keeps nothing), keyed by all that
the rewrite reads: the rules' text, the code that rewrites them and clingo's version. A changed
rule or rewrite never meets an old entry, and an entry is written only when its text parses back
to the very statements it was made from. The rules' own text only: no case ever reaches it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import clingo
from clingo import ast

from . import facts, program

_CODE = b"\0".join(Path(m.__file__).read_bytes() for m in (program, facts)) + clingo.__version__.encode()


def directory() -> Path | None:
    configured = os.environ.get("KBQUERY_CACHE")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kbquery"


def derived(label: str, rules: str, make: Callable[[], tuple[list, dict]]) -> tuple[list, dict]:
    """`make()` (statements and JSON metadata) for these rules, from the cache when it holds it."""
    key = hashlib.sha256(b"\0".join([label.encode(), rules.encode(), _CODE])).hexdigest()
    folder = directory()
    path = folder / f"{label}-{key}.json" if folder else None
    if path is not None and path.is_file():
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") == key:
                return _parse(entry["statements"]), entry["meta"]
        except (OSError, ValueError, KeyError, RuntimeError):
            pass  # unreadable or torn: derive again, and write it anew below
    statements, meta = make()
    if path is not None:
        _store(path, key, statements, meta)
    return statements, meta


def _parse(text: str) -> list:
    parsed: list = []
    ast.parse_string(text, parsed.append)
    return parsed[1:]  # the parser opens every text with a `#program base.` of its own


def _store(path: Path, key: str, statements: list, meta: dict) -> None:
    text = "\n".join(str(s) for s in statements)
    if [str(s) for s in _parse(text)] != [str(s) for s in statements]:
        return  # a statement that does not print as it parses: derive it in every process instead
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump({"key": key, "statements": text, "meta": meta}, f)
        os.replace(f.name, path)  # whole or not at all, whichever process writes it first
    except OSError:
        pass  # a read-only home: every process derives its own, as before
