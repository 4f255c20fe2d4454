"""Fuzzing: invalid and hostile cases never crash the API, the batch or the CLI; case strings never
change a determination."""

from __future__ import annotations

import copy
import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from kbquery import CaseError, decide
from kbquery.batch import decide_window
from kbquery.case import parse
from kbquery.cli import main

EXAMPLE = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
                    max_leaves=30)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def replaced(case, path, value):
    case = copy.deepcopy(case)
    if not path:
        return value
    target = case
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return case


def decided_or_refused(case) -> str:
    """A determination, or a clear CaseError naming paths: anything else fails the test."""
    try:
        return decide(case).determination
    except CaseError as e:
        assert e.errors and all(isinstance(p, str) and m for p, m in e.errors)
        return "refused"


@FUZZ
@given(JSON)
def test_any_json_value_is_decided_or_refused(value):
    decided_or_refused(value)


@FUZZ
@given(st.data())
def test_any_field_replaced_by_anything(data):
    path = data.draw(st.sampled_from(list(paths(EXAMPLE))))
    decided_or_refused(replaced(EXAMPLE, path, data.draw(JSON)))


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_on_a_batch_line_become_one_record(raw):
    example = json.dumps(EXAMPLE)
    lines = decide_window([(1, "line 1", example), (2, "line 2", raw.decode("utf-8", errors="replace")),
                           (3, "line 3", example)], None, False)
    first, record, last = map(json.loads, lines)
    assert record["line"] == 2 and ("determination" in record or record["error"]["kind"] == "invalid_case")
    assert first["line"] == 1 and last["line"] == 3 and first["determination"] == last["determination"]


ASP_ISH = st.text(alphabet=st.sampled_from(list('abc().:-%#{}";, \\\n*/@_01') + ["\u202e", "\U0001f600", "é"]),
                  min_size=1, max_size=40)


@FUZZ
@given(ASP_ISH, ASP_ISH)
def test_case_strings_never_change_a_determination(case_id, scale):
    case = copy.deepcopy(EXAMPLE)
    expected = decide(case)
    case["case_id"], case["pain"]["scale"] = case_id, scale
    got = decide(case)
    assert got.case_id == case_id
    assert (got.determination, got.unmet, got.missing) == (expected.determination, expected.unmet, expected.missing)


def test_deep_nesting_is_refused_clearly():
    deep = '{"case_id": "x", "request": ' + "[" * 100_000 + "]" * 100_000 + "}"
    try:
        decide(parse(deep))
    except CaseError as e:
        assert e.errors[0][1]
    result = CliRunner().invoke(main, ["-"], input=deep)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_ten_thousand_prior_procedures_are_refused_naming_the_limit():
    case = replaced(EXAMPLE, ("prior_procedures",), [{"date": "2025-01-01", "purpose": "diagnostic"}] * 10_000)
    result = CliRunner().invoke(main, ["-"], input=json.dumps(case))
    assert result.exit_code == 2
    assert "prior_procedures: 10000 items; the limit is 200" in result.output


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_cli_never_shows_a_traceback(data):
    path = data.draw(st.sampled_from(list(paths(EXAMPLE))))
    case = replaced(EXAMPLE, path, data.draw(JSON))
    result = CliRunner().invoke(main, ["-", "--format", data.draw(st.sampled_from(["json", "text"]))],
                                input=json.dumps(case))
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
