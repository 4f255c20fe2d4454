"""Every case file under tests/cases decides as it says.

A case file holds `description`, the `case` itself, optional `readings`, and `expect`:
`determination`, `unmet` and `missing` are compared exactly; `request_kind`, `statuses`
(criterion id -> status) and `warnings` (clause ids) when given.
"""

from __future__ import annotations

import pytest

from conftest import CASES, case_files, load_case_file
from kbquery import decide

FILES = case_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CASES)) for p in FILES])
def test_case_file(path):
    spec = load_case_file(path)
    expect = spec["expect"]
    d = decide(spec["case"], readings=spec.get("readings"))
    assert d.determination == expect["determination"], spec["description"]
    assert d.unmet == expect.get("unmet", []), spec["description"]
    assert d.missing == expect.get("missing", {}), spec["description"]
    if "request_kind" in expect:
        assert d.request_kind == expect["request_kind"]
    statuses = {c.id: c.status for c in d.criteria}
    for cid, status in expect.get("statuses", {}).items():
        assert statuses.get(cid) == status, f"{cid}: {spec['description']}"
    if "warnings" in expect:
        assert sorted({w["clause"] for w in d.warnings}) == sorted(expect["warnings"])
