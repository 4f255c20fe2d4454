"""kbquery: health-plan medical policy as Answer Set Programming.

    >>> from kbquery import decide
    >>> decide({"case_id": "x", "request": {"date": "2026-03-02", "code": "99213"}}).determination
    'not_addressed'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .case import CaseError, case_document, parse, validate
from .determination import Determination
from .determination import read as _read
from .knowledge import DEFAULT_POLICY, KnowledgeBase, knowledge_base, policies, scoped_readings
from .solve import InternalError, solve_many

__all__ = ["CaseError", "Determination", "InternalError", "KnowledgeBase", "decide", "decide_many", "knowledge_base", "load"]


def load(text: str | bytes) -> dict:
    """Parse a case from JSON text (errors name the offending path)."""
    return parse(text)


def decide(case: dict[str, Any], *, readings: dict[str, str] | None = None, kb: KnowledgeBase | None = None) -> Determination:
    """Validate a case, solve it under its policy (or the knowledge base given), and read the determination back."""
    (result,) = decide_many([case], readings=readings, kb=kb)
    if isinstance(result, Exception):
        raise result
    return result


def decide_many(cases: Sequence[Any], *, readings: dict[str, str] | None = None,
                kb: KnowledgeBase | None = None) -> list[Determination | CaseError | InternalError]:
    """Decide many cases at once, in input order: each a Determination, or the error that case raised.

    Each item is a bare case or a suite case file (kbquery.case.case_document); a suite file's
    own readings apply, each of `readings` taking the place of the file's for that clause.
    The valid cases of each policy and readings are grounded and solved together
    (kbquery.solve.solve_many), which costs a fraction per case of deciding them one by one."""
    results: list = [None] * len(cases)
    # A switched reading goes to each policy whose register has it; one no policy has is an error.
    switched = scoped_readings(readings, [kb] if kb else [knowledge_base(p) for p in policies()]) if readings else {}
    members: dict[tuple[KnowledgeBase, tuple], list[tuple[int, dict]]] = {}
    for i, document in enumerate(cases):
        try:
            case, own, within = case_document(document)
            try:
                policy_kb = kb or _policy(case)
                valid = validate(case, policy_kb.schema)
            except CaseError as e:  # paths within the file, where a suite file holds the case under "case"
                raise e.within(within) if within else e from None
            chosen = {**_own_readings(policy_kb, own), **switched.get(policy_kb, {})}
            members.setdefault((policy_kb, tuple(sorted(chosen.items()))), []).append((i, valid))
        except CaseError as e:
            results[i] = e
    for (policy_kb, chosen), valid in members.items():
        answers = solve_many(policy_kb, [case for _, case in valid], dict(chosen))
        for (i, case), answer in zip(valid, answers):
            results[i] = answer if isinstance(answer, InternalError) else _read(answer, policy_kb, case, dict(chosen))
    return results


def _own_readings(kb: KnowledgeBase, own: dict[str, str] | None) -> dict[str, str]:
    """A case file's own readings, checked against the register: a bad one is the file's error."""
    try:
        kb.reading_options(own)
    except ValueError as e:
        raise CaseError([("readings", str(e))]) from None
    return own or {}


def _policy(case: Any) -> KnowledgeBase:
    """The knowledge base of the policy a case names (the default when it names none)."""
    policy = case.get("policy", DEFAULT_POLICY) if isinstance(case, dict) else DEFAULT_POLICY
    try:
        return knowledge_base(policy if isinstance(policy, str) else DEFAULT_POLICY)
    except ValueError as e:
        raise CaseError([("policy", str(e))]) from None
