"""Shared fixtures: the case files under tests/cases and the example cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
CASES = HERE / "cases"


def case_files() -> list[Path]:
    return sorted(CASES.rglob("*.json"))


def load_case_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def example_case() -> dict:
    return json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text(encoding="utf-8"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden explanation files in tests/golden from the current rules")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
