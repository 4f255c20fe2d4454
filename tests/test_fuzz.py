"""Fuzzing: invalid and hostile cases never crash the API, the batch or the CLI; case strings never
change a determination."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from kbquery import CaseError, decide
from kbquery.batch import decide_window, read_items
from kbquery.case import parse, subschema
from kbquery.cli import main
from kbquery.knowledge import knowledge_base
from kbquery.symbols import path_text

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
    lines = decide_window([(1, "line 1", example), (2, "line 2", raw.replace(b"\n", b"")), (3, "line 3", example)],
                          None, False)
    first, record, last = map(json.loads, lines)
    assert record["line"] == 2 and ("determination" in record or record["error"]["kind"] == "invalid_case")
    assert first["line"] == 1 and last["line"] == 3 and first["determination"] == last["determination"]


# Hostile input, one fault class a test, each over both faces: the single-case CLI (`kbquery -`)
# and the batch (a JSONL file read by batch.read_items, decided by decide_window). Either way one
# answer per case, or per "\n"-line, with the right line number, and never a traceback.

HOSTILE = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LINE = json.dumps(EXAMPLE).encode()
EXPECTED = decide(EXAMPLE).determination


def cli(data: bytes):
    """`kbquery -` on these bytes: (exit status, standard error); a traceback or a torn output fails."""
    result = CliRunner().invoke(main, ["-", "--format", "json"], input=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    if result.exit_code == 0:
        assert json.loads(result.stdout)["determination"]
    return result.exit_code, result.stderr


def batch_records(data: bytes) -> list[dict]:
    """The records of a batch over a JSONL file holding these bytes: one per "\n"-line, numbered in order."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.jsonl"
        source.write_bytes(data)
        records = [json.loads(r) for r in decide_window(list(read_items(source)), None, False)]
    lines = data.split(b"\n")
    assert len(records) == len(lines) - (lines[-1] == b"")  # a final "\n" ends the last line, it starts none
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))
    return records


def refused_in_both(line: bytes) -> tuple[str, dict]:
    """A line refused by the CLI (exit 2) and, between two valid cases, by the batch: (stderr, its error)."""
    status, stderr = cli(line)
    assert status == 2
    first, record, last = batch_records(LINE + b"\n" + line + b"\n" + LINE + b"\n")
    assert first["determination"] == last["determination"] == EXPECTED
    assert record["error"]["kind"] == "invalid_case" and len(json.dumps(record)) < 5_000
    return stderr, record["error"]


JSON_WHITESPACE = st.lists(st.sampled_from([b" ", b"\r", b"\t", b"\r\r"]), max_size=3).map(b"".join)


@HOSTILE
@given(st.lists(st.one_of(st.just(LINE), st.binary(max_size=40), st.tuples(JSON_WHITESPACE, st.integers(0, 30)).map(
    lambda w: LINE.replace(b", ", b"," + w[0], w[1]))), min_size=1, max_size=6), st.booleans())
def test_raw_bytes_with_carriage_returns(lines, crlf):
    """Raw CR (JSON whitespace) inside a line splits nothing; a CRLF ending is a line ending."""
    data = b"\n".join(line + (b"\r" if crlf else b"") for line in lines) + b"\n"
    records = batch_records(data)
    examples = {line for line in lines if line.startswith(LINE[:20])}  # the example, whitespace apart
    for line, record in zip(data.split(b"\n"), records):
        if line.removesuffix(b"\r") in examples:
            assert record["determination"] == EXPECTED
    for line in lines[:2]:
        cli(line)


def value_at(case, path):
    for key in path:
        case = case[key]
    return case


STRINGS = [p for p in paths(EXAMPLE) if isinstance(value_at(EXAMPLE, p), str)]


@HOSTILE
@given(st.sampled_from(STRINGS), st.integers(0xD800, 0xDFFF), st.booleans())
def test_lone_surrogates(path, code, in_key):
    """A "\\udXXX" escape alone, in a string or in a key beside it: refused naming where it is."""
    marker = "SURROGATE-HERE"
    if in_key:  # a key of the object nearest the string
        path = next(path[:i] for i in range(len(path), -1, -1) if isinstance(value_at(EXAMPLE, path[:i]), dict))
        case = replaced(EXAMPLE, path, {**value_at(EXAMPLE, path), marker: "x"})
        path += (marker,)
    else:
        case = replaced(EXAMPLE, path, marker)
    escaped = f"a\\u{code:04x}b"
    stderr, error = refused_in_both(json.dumps(case).replace(marker, escaped).encode())
    where = path_text(path).replace(marker, escaped)
    assert error["errors"][0]["path"] == where and "lone surrogate" in error["errors"][0]["message"]
    assert f"invalid case: {where}: " in stderr


OBJECTS = [p for p in paths(EXAMPLE) if isinstance(value_at(EXAMPLE, p), dict) and value_at(EXAMPLE, p)]


def dumps_repeating(value, target: tuple, key: str, again, path=()) -> str:
    """JSON text of a value in which the object at `target` gives `key` a second time, with the value `again`."""
    if isinstance(value, dict):
        pairs = [f"{json.dumps(k)}: {dumps_repeating(v, target, key, again, path + (k,))}" for k, v in value.items()]
        if path == target:
            pairs.append(f"{json.dumps(key)}: {json.dumps(again)}")
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dumps_repeating(v, target, key, again, path + (i,)) for i, v in enumerate(value)) + "]"
    return json.dumps(value)


@HOSTILE
@given(st.data())
def test_duplicate_keys(data):
    """A key given twice, with the same or another value: refused naming the path and the key."""
    target = data.draw(st.sampled_from(OBJECTS))
    key = data.draw(st.sampled_from(sorted(value_at(EXAMPLE, target))))
    again = data.draw(st.one_of(st.just(value_at(EXAMPLE, target + (key,))), JSON))
    stderr, error = refused_in_both(dumps_repeating(EXAMPLE, target, key, again).encode())
    where = path_text(target + (key,))
    assert {"path": where, "message": f"key {key!r} is given more than once"} in error["errors"]
    assert f"invalid case: {where}: key {key!r} is given more than once" in stderr


LISTS = [("other_causes",), ("conservative_therapy", "modalities"), ("prior_procedures",)]
JUNK = st.sampled_from([1, "x", None, {}, [], {"date": "x"}, True, 1.5])


@HOSTILE
@given(st.sampled_from(LISTS), st.integers(1, 50_000), JUNK)
def test_huge_lists(path, extra, junk):
    """A list past its limit, of junk: one error naming the limit, whatever the items hold."""
    limit = subschema(knowledge_base().schema, path)["maxItems"]
    stderr, error = refused_in_both(json.dumps(replaced(EXAMPLE, path, [junk] * (limit + extra))).encode())
    assert error["errors"] == [{"path": path_text(path), "message": f"{limit + extra} items; the limit is {limit}"}]
    assert stderr.count("\n") == 1


NUMBERS = [p for p in paths(EXAMPLE) if type(value_at(EXAMPLE, p)) is int]
HUGE = st.one_of(st.sampled_from(["NaN", "Infinity", "-Infinity"]),
                 st.integers(309, 99_999).map(lambda e: f"1e{e}"), st.integers(309, 99_999).map(lambda e: f"-2.5E+{e}"),
                 st.integers(300, 6_000).map(lambda n: "7" * n), st.integers(300, 6_000).map(lambda n: "-" + "1" * n))


@HOSTILE
@given(st.sampled_from(NUMBERS), HUGE)
def test_huge_numbers(path, number):
    """NaN, Infinity, overflowing exponents and integers of thousands of digits: refused at their path,
    never echoed whole."""
    marker = 123456789
    line = json.dumps(replaced(EXAMPLE, path, marker)).replace(str(marker), number).encode()
    stderr, error = refused_in_both(line)
    (only,) = error["errors"]
    assert only["path"] == path_text(path) and len(only["message"]) < 200
    assert stderr.count("\n") == 1 and len(stderr) < 300


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]


@HOSTILE
@given(st.sampled_from(ENCODINGS), st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cs"]) | st.sampled_from("€😀ċ\u2028"),
                                           min_size=1, max_size=20))
@example("latin-1", "Â\x80")  # bytes C2 80: UTF-8 too, for U+0080, so read as UTF-8 and decided
def test_odd_encodings(encoding, case_id):
    """A case in another encoding: decided only when its bytes are UTF-8 (a byte order mark aside),
    read as UTF-8, else refused. Some bytes are both: Latin-1 "Â\x80" is UTF-8's U+0080, and no
    reader can tell which was meant, so such a case is decided under the UTF-8 reading."""
    text = json.dumps(dict(EXAMPLE, case_id=case_id), ensure_ascii=False)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        read_as = json.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))["case_id"]
    except (UnicodeDecodeError, json.JSONDecodeError):
        read_as = None  # not UTF-8, or UTF-8 that is not JSON (UTF-16's NUL bytes)
    status, stderr = cli(data)
    assert status == (0 if read_as is not None else 2), stderr
    records = batch_records(data + b"\n")
    if read_as is not None:
        (record,) = records
        assert record["case_id"] == read_as and record["determination"] == EXPECTED
    else:
        assert all(r["error"]["kind"] == "invalid_case" for r in records)


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
