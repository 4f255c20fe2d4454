"""Shared fixtures: the case files under tests/cases, the example cases, bench/reference.py."""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from browser import browser, page  # noqa: F401  (a headless chromium for any test that asks)

# The derived programs (kbquery.derived) of this run's own, not the user's: the suite starts cold,
# and its processes (CLI runs, batch workers) share what the first derived. Removed at the end.
if "KBQUERY_CACHE" not in os.environ:
    os.environ["KBQUERY_CACHE"] = tempfile.mkdtemp(prefix="kbquery-cache-")
    atexit.register(shutil.rmtree, os.environ["KBQUERY_CACHE"], ignore_errors=True)

HERE = Path(__file__).parent
ROOT = HERE.parent
CASES = HERE / "cases"


def case_files() -> list[Path]:
    return sorted(CASES.rglob("*.json"))


def load_case_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def interruptible() -> None:
    """For subprocess.Popen(preexec_fn=...): a child that Ctrl-C reaches even when the tests run in
    the background, where the shell started them with SIGINT ignored (which a child inherits)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def load_reference():
    """bench/reference.py, the independent oracle and case generator (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_reference", ROOT / "bench" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_case() -> dict:
    return json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text(encoding="utf-8"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden explanation files in tests/golden from the current rules")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
