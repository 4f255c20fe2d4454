"""Hostile input to the single-case CLI and to kbquery.case: refused by path, exit 2, no traceback,
and never an output that grows with the input's size."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import ROOT
from kbquery import CaseError, decide
from kbquery.case import MAX_ERRORS, parse, validate
from kbquery.cli import main
from kbquery.knowledge import knowledge_base

EXAMPLE = json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())


def cli(data: bytes | str):
    """(exit status, standard error lines) of `kbquery -` given this input; a traceback fails the test."""
    result = CliRunner().invoke(main, ["-", "--format", "json"], input=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.splitlines()


def with_text(fragment: str, where: str = '"scale": "NRS"') -> str:
    """The example case's JSON text with a fragment of raw JSON in place of one key and value."""
    text = json.dumps(EXAMPLE)
    assert where in text
    return text.replace(where, fragment)


def test_empty_input_says_so():
    assert cli(b"") == (2, ["invalid case: (case): empty input: no case"])
    assert cli(b" \n\t") == (2, ["invalid case: (case): empty input: no case"])


def test_invalid_utf8_is_refused_naming_the_byte():
    data = with_text('"scale": "NRS\xe9"').encode("latin-1")
    status, lines = cli(data)
    assert status == 2 and lines == [f"invalid case: (case): not UTF-8 text: byte 0xe9 at offset {data.index(0xE9)}"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_other_encodings_are_refused_as_not_utf8(encoding):
    status, lines = cli(json.dumps(EXAMPLE).encode(encoding))  # each with its byte order mark
    assert status == 2 and "not UTF-8 text" in lines[0]


def test_a_utf8_byte_order_mark_is_ignored():
    assert cli(b"\xef\xbb\xbf" + json.dumps(EXAMPLE).encode())[0] == 0


def test_a_lone_surrogate_is_refused_naming_its_path():
    status, lines = cli(with_text('"scale": "NRS\\ud800"'))
    assert status == 2
    assert lines == ["invalid case: pain.scale: 'NRS\\ud800' holds a lone surrogate (\\ud800-\\udfff), "
                     "which is not Unicode text"]


def test_a_lone_surrogate_in_a_key_is_refused_without_echoing_it_raw():
    status, lines = cli(with_text('"sc\\udc00ale": "NRS"'))
    assert status == 2 and lines[0].startswith("invalid case: pain.sc\\udc00ale: the key holds a lone surrogate")


def test_duplicate_keys_are_refused_naming_path_and_key():
    status, lines = cli(with_text('"radiculopathy": true, "radiculopathy": false', '"radiculopathy": false'))
    assert status == 2 and lines == ["invalid case: pain.radiculopathy: key 'radiculopathy' is given more than once"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000])
def test_numbers_that_are_not_finite_are_refused_naming_the_path(number):
    status, lines = cli(with_text(f'"score": {number}', '"score": 8'))
    assert status == 2 and lines == ["invalid case: pain.score: not a finite number (NaN, Infinity, or too large to read)"]


def test_a_huge_integer_is_not_echoed_whole():
    status, lines = cli(with_text(f'"score": {"9" * 400}', '"score": 8'))
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith("invalid case: pain.score: 9999") and "is greater than the maximum of 10" in lines[0]
    assert len(lines[0]) < 150


@pytest.mark.parametrize("date, field", [("2026-3-02", "request.date"), ("2026-02-30", "request.date")])
def test_a_malformed_date_is_reported_once(date, field):
    status, lines = cli(with_text(f'"date": "{date}"', '"date": "2026-03-02"'))
    assert status == 2 and lines == [f"invalid case: {field}: '{date}' is not a calendar date YYYY-MM-DD"]


def test_dates_out_of_order_are_reported_once():
    """pain.onset_date after request.date breaks both the reference date's rule and an x-date-order pair."""
    case = dict(EXAMPLE, pain=dict(EXAMPLE["pain"], onset_date="2026-04-01"))
    status, lines = cli(json.dumps(case))
    assert status == 2 and lines == ["invalid case: pain.onset_date: date 2026-04-01 is after request.date 2026-03-02"]


def test_300000_bad_list_items_give_one_error_naming_the_limit():
    case = dict(EXAMPLE, other_causes=[1] * 300_000)
    status, lines = cli(json.dumps(case))
    assert status == 2 and lines == ["invalid case: other_causes: 300000 items; the limit is 9"]


def test_errors_are_capped_with_a_count_of_the_rest():
    case = dict(EXAMPLE, pain={f"k{i:06d}": 1 for i in range(30_000)})
    with pytest.raises(CaseError) as raised:
        validate(case, knowledge_base().schema)
    assert len(raised.value.errors) == MAX_ERRORS and raised.value.more == 30_000 - MAX_ERRORS
    assert raised.value.errors[0] == ("pain.k000000", raised.value.errors[0][1])  # the first, in path order
    status, lines = cli(json.dumps(case))
    assert status == 2 and len(lines) == MAX_ERRORS + 1 and lines[-1] == f"... and {30_000 - MAX_ERRORS} more errors"
    assert all(line.startswith("invalid case: pain.k0000") for line in lines[:MAX_ERRORS])


def test_a_huge_unknown_key_is_not_echoed_whole():
    case = dict(EXAMPLE, member={"x" * 1_000_000: True})
    status, lines = cli(json.dumps(case))
    assert status == 2 and len(lines) == 1 and len(lines[0]) < 400


def test_a_huge_wrong_value_is_not_echoed_whole():
    case = dict(EXAMPLE, request=["27096"] * 100_000)
    status, lines = cli(json.dumps(case))
    assert status == 2 and lines == ["invalid case: request: ['27096', '27096', '27096', '27096', ...] is not of type 'object'"]


def test_the_python_api_refuses_what_parse_refuses():
    """A case built in Python can hold a NaN or a lone surrogate too: validate refuses them by path."""
    with pytest.raises(CaseError, match="pain.score: not a finite number"):
        decide(dict(EXAMPLE, pain=dict(EXAMPLE["pain"], score=float("nan"))))
    with pytest.raises(CaseError, match="case_id: .* lone surrogate"):
        decide(dict(EXAMPLE, case_id="x\ud800"))


def test_a_refused_case_keeps_its_case_id_when_readable():
    with pytest.raises(CaseError) as raised:
        parse(with_text('"score": NaN', '"score": 8'))
    assert raised.value.case_id == EXAMPLE["case_id"]
    with pytest.raises(CaseError) as raised:
        parse(json.dumps(dict(EXAMPLE, case_id="x\ud800")))
    assert raised.value.case_id is None


def test_the_cli_says_how_many_more_errors_there_were():
    case = dict(EXAMPLE, pain={f"k{i:06d}": 1 for i in range(1_000)})
    status, lines = cli(json.dumps(case))
    assert status == 2 and lines[-1] == f"... and {1_000 - MAX_ERRORS} more errors"
