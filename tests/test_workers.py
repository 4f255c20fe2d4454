"""kbquery.workers: parts run in fresh processes, results in order, failures raised as they were."""

from __future__ import annotations

import os
import sys

import pytest

from kbquery.symbols import day_number
from kbquery.workers import run_parts


def test_each_part_in_order():
    assert run_parts(day_number, [("1970-01-03",), ("1970-01-01",), ("2026-01-01",)]) == [2, 0, day_number("2026-01-01")]


def test_a_part_that_raises_raises_here_with_its_type_and_the_workers_trace():
    with pytest.raises(ValueError) as raised:
        run_parts(day_number, [("1970-01-01",), ("not a date",)])
    assert any("in a worker process" in note and "fromisoformat" in note for note in raised.value.__notes__)


def test_what_a_part_prints_does_not_garble_its_result():
    assert run_parts(print, [("to stderr",), ("and this",)]) == [None, None]


def test_a_worker_that_dies_is_an_error_not_a_wait():
    with pytest.raises(RuntimeError, match="exit status 3 and no result"):
        run_parts(os._exit, [(3,), (0,)])


def test_a_worker_that_ends_before_taking_its_part_is_an_error_that_says_so(tmp_path, monkeypatch):
    """A child that exits before reading (here a stand-in interpreter) closes the pipe its part is
    written to: the error is its exit status, not a BrokenPipeError from the writing."""
    stand_in = tmp_path / "python"
    stand_in.write_text("#!/bin/sh\nexit 3\n")
    stand_in.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(stand_in))
    with pytest.raises(RuntimeError, match="exit status 3 and no result"):
        run_parts(len, [("x" * 2_000_000,), ("y",)])  # larger than a pipe holds: the write meets the closed end
