"""kbquery: health-plan medical policy as Answer Set Programming.

    >>> from kbquery import decide
    >>> decide({"case_id": "x", "request": {"date": "2026-03-02", "code": "99213"}}).determination
    'not_addressed'
"""

from __future__ import annotations

from typing import Any

from .case import CaseError, parse, validate
from .determination import Determination
from .determination import read as _read
from .facts import case_symbols
from .knowledge import DEFAULT_POLICY, KnowledgeBase, knowledge_base
from .solve import InternalError, solve

__all__ = ["CaseError", "Determination", "InternalError", "KnowledgeBase", "decide", "knowledge_base", "load"]


def load(text: str | bytes) -> dict:
    """Parse a case from JSON text (errors name the offending path)."""
    return parse(text)


def decide(case: dict[str, Any], *, readings: dict[str, str] | None = None, kb: KnowledgeBase | None = None) -> Determination:
    """Validate a case, solve it under its policy (or the knowledge base given), and read the determination back."""
    if kb is None:
        policy = case.get("policy", DEFAULT_POLICY) if isinstance(case, dict) else DEFAULT_POLICY
        try:
            kb = knowledge_base(policy if isinstance(policy, str) else DEFAULT_POLICY)
        except ValueError as e:
            raise CaseError([("policy", str(e))]) from None
    valid = validate(case, kb.schema)
    answer = solve(kb, case_symbols(valid, kb.schema), readings)
    return _read(answer, kb, valid, readings)
