"""The case suite shows every criterion of the rules met, not met and, where documentation decides it, unknown."""

from __future__ import annotations

from collections import Counter, defaultdict

from conftest import case_files, load_case_file
from kbquery import decide
from kbquery.knowledge import DEFAULT_POLICY, knowledge_base

# Criteria that no absent field can leave open: decided by the request's code (VI, VII), by the
# reading alone (II), or by dates the case format requires (II.B, III.C).
NEVER_UNKNOWN = {"VI", "VII", "II", "II.B", "III.C"}
# VI and VII are evaluated only for the code they exclude.
NEVER_MET = {"VI", "VII"}


def test_every_criterion_is_met_not_met_and_unknown_somewhere():
    seen: dict[str, Counter] = defaultdict(Counter)
    for path in case_files():
        spec = load_case_file(path)
        if spec["case"].get("policy", DEFAULT_POLICY) != DEFAULT_POLICY:
            continue  # another policy's suite: tests/test_policies.py holds it to the same standard
        for c in decide(spec["case"], readings=spec.get("readings")).criteria:
            seen[c.id][c.status] += 1
    assert set(seen) == set(knowledge_base().clauses), "every clause of the rules appears in some case"
    for cid, statuses in seen.items():
        wanted = {"met", "not_met", "unknown"} - ({"unknown"} if cid in NEVER_UNKNOWN else set()) - (
            {"met"} if cid in NEVER_MET else set())
        assert wanted <= statuses.keys(), f"{cid}: {dict(statuses)}"
