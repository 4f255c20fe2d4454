"""The kbquery command line: output formats, exit status, and bad input of every kind."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from conftest import interruptible
from kbquery.cli import main

SPEC_KEYS = {"case_id", "policy", "determination", "request_kind", "governing_sections", "criteria",
             "unmet", "missing", "warnings", "interpretation", "kb_digest"}


def run(args, input=None):
    return CliRunner().invoke(main, args, input=input)


def write(tmp_path, case, name="case.json"):
    path = tmp_path / name
    path.write_text(case if isinstance(case, str) else json.dumps(case))
    return str(path)


def test_json_output_has_the_spec_keys(tmp_path, example_case):
    result = run([write(tmp_path, example_case), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert SPEC_KEYS <= out.keys()
    assert out["determination"] == "medically_necessary"
    assert out["policy"] == {"id": "MC.CP.MP.166", "revision": "12/25"}
    assert out["kb_digest"].startswith("sha256:")
    assert all({"id", "status", "text"} <= c.keys() for c in out["criteria"])


def test_json_is_the_default_on_a_pipe(tmp_path, example_case):
    assert json.loads(run([write(tmp_path, example_case)]).output)["case_id"] == example_case["case_id"]


def test_text_output_names_determination_reasons_and_readings(tmp_path, example_case):
    example_case["conservative_therapy"]["end_date"] = "2025-11-20"
    result = run([write(tmp_path, example_case), "--format", "text"])
    assert result.exit_code == 0
    assert "NOT MEDICALLY NECESSARY" in result.output
    assert "NOT MET I.E" in " ".join(result.output.split())
    assert "conservative therapy 20 days, 2025-11-01 to 2025-11-20; at least 28 required" in " ".join(result.output.split())
    assert "Readings applied" in result.output and "weeks = days" in result.output


def test_text_output_lists_missing_fields(tmp_path, example_case):
    del example_case["pain"]["radiculopathy"]
    result = run([write(tmp_path, example_case), "--format", "text"])
    assert "MORE INFORMATION NEEDED" in result.output
    assert "missing: pain.radiculopathy" in result.output


def test_standard_input(example_case):
    result = run(["-", "--format", "json"], input=json.dumps(example_case))
    assert result.exit_code == 0
    assert json.loads(result.output)["determination"] == "medically_necessary"


def test_explicit_decide_command(tmp_path, example_case):
    result = run(["decide", write(tmp_path, example_case), "--format", "json"])
    assert json.loads(result.output)["request_kind"] == "initial_diagnostic"


def test_reading_switch_changes_the_determination(tmp_path, example_case):
    example_case["request"]["side"] = "bilateral"
    path = write(tmp_path, example_case)
    assert json.loads(run([path]).output)["unmet"] == ["I.A"]
    switched = json.loads(run([path, "--reading", "bilateral_injection=one_injection"]).output)
    assert switched["determination"] == "medically_necessary"
    assert {"id": "bilateral_injection", "reading": "one_injection"}.items() <= next(
        r for r in switched["interpretation"] if r["id"] == "bilateral_injection").items()


@pytest.mark.parametrize("reading", ["nope=x", "bilateral_injection=three", "months=days_30", "bilateral_injection"])
def test_bad_reading_is_a_usage_error(tmp_path, example_case, reading):
    result = run([write(tmp_path, example_case), "--reading", reading])
    assert result.exit_code == 2
    assert "--reading" in result.output


def mutate(case, path, value):
    target = case
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return case


BAD_INPUTS = {
    "malformed JSON": ('{"case_id": "x", "request": ', "(case): malformed JSON at line 1"),
    "not an object": ("[1, 2]", "(case): a case is a JSON object"),
    "unknown key": ((["pain", "radiculopaty"], True), "pain.radiculopaty: unknown key 'radiculopaty'"),
    "unknown top-level key": ((["comment"], "hi"), "comment: unknown key 'comment'"),
    "wrong type": ((["pain", "below_l5"], "yes"), "pain.below_l5: 'yes' is not of type 'boolean'"),
    "out-of-range score": ((["pain", "score"], 11), "pain.score: 11 is greater than the maximum of 10"),
    "not a date": ((["request", "date"], "2026-02-30"), "request.date: '2026-02-30' is not a calendar date"),
    "unknown enum value": ((["request", "side"], "middle"), "request.side: 'middle' is not one of"),
    "date after the request": ((["pain", "onset_date"], "2026-04-01"), "pain.onset_date: date 2026-04-01 is after request.date 2026-03-02"),
    "therapy ends before it starts": ((["conservative_therapy", "end_date"], "2025-10-01"),
                                      "conservative_therapy.end_date: date 2025-10-01 is before conservative_therapy.start_date 2025-11-01"),
    "missing required field": ((["request"], {"date": "2026-03-02"}), "request.code: required field is missing"),
    "missing case_id": (("delete", "case_id"), "case_id: required field is missing"),
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_exits_2_naming_the_path(tmp_path, example_case, kind):
    change, message = BAD_INPUTS[kind]
    if isinstance(change, str):
        text = change
    elif change[0] == "delete":
        del example_case[change[1]]
        text = json.dumps(example_case)
    else:
        text = json.dumps(mutate(example_case, *change))
    result = run([write(tmp_path, text)])
    assert result.exit_code == 2
    assert message in result.output
    assert "determination" not in result.output  # nothing half-done


def test_measurement_before_its_procedure_is_an_error(tmp_path, example_case):
    example_case["prior_procedures"] = [{"date": "2026-01-10", "purpose": "diagnostic",
                                         "pain": {"scale": "NRS", "before": 8, "after": [{"date": "2026-01-09", "score": 1}]}}]
    result = run([write(tmp_path, example_case)])
    assert result.exit_code == 2
    assert "prior_procedures[0].pain.after[0].date: date 2026-01-09 is before prior_procedures[0].date 2026-01-10" in result.output


def test_null_is_absent(tmp_path, example_case):
    example_case["pain"]["radiculopathy"] = None
    out = json.loads(run([write(tmp_path, example_case)]).output)
    assert out["missing"] == {"I.C": ["pain.radiculopathy"]}


def test_schema_command_prints_the_case_schema():
    schema = json.loads(run(["schema"]).output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert "request" in schema["required"]


def test_readings_command_lists_the_register():
    register = json.loads(run(["readings", "--format", "json"]).output)
    assert register["bilateral_injection"]["default"] == "two_injections"
    assert set(register["bilateral_injection"]["options"]) == {"two_injections", "one_injection"}
    assert "* two_injections" in run(["readings"]).output


COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help_with_an_example(command):
    result = run([command, "--help"] if command else ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


ASP_LOOKING = [
    'x). determination(medically_necessary). #show.',
    '"). :- status(_,_). %',
    "#const reading_bilateral_injection=one_injection.",
    "a :- not a.",
    "}.{ \\\" \u202e \U0001F600 */ %* ",
]


@pytest.mark.parametrize("text", ASP_LOOKING)
def test_strings_that_look_like_asp_change_nothing(tmp_path, example_case, text):
    plain = copy.deepcopy(example_case)
    plain["request"]["side"] = "bilateral"  # a case that is decided not medically necessary
    hostile = copy.deepcopy(plain)
    hostile["case_id"] = text
    hostile["pain"]["scale"] = text[:40]
    hostile["request"]["code"] = "27096"
    expected = json.loads(run([write(tmp_path, plain, "plain.json")]).output)
    got = json.loads(run([write(tmp_path, hostile, "hostile.json")]).output)
    assert got["case_id"] == text
    for key in ("determination", "unmet", "missing", "criteria", "request_kind"):
        assert got[key] == expected[key]
    # As a code, such a string is simply another code: outside the policy.
    hostile["request"]["code"] = text[:16]
    assert json.loads(run([write(tmp_path, hostile, "code.json")]).output)["determination"] == "not_addressed"


def test_an_integral_float_is_the_integer(tmp_path, example_case):
    example_case["pain"]["severity"] = None
    example_case["pain"]["score"] = 3.0  # JSON Schema counts 3.0 as an integer; it grades mild
    out = json.loads(run([write(tmp_path, example_case)]).output)
    assert out["unmet"] == ["I.B"]


# --- output files: the format their extension names, written whole or not at all ----------------

EXPLAIN_FILES = {  # extension -> what the file must start with (or hold)
    "svg": lambda b: b"<svg" in b[:400],
    "png": lambda b: b.startswith(b"\x89PNG"),
    "dot": lambda b: b.lstrip().startswith((b"digraph", b"strict digraph")),
    "json": lambda b: "why_not" in json.loads(b),
    "html": lambda b: b"<html" in b[:400].lower(),
    "txt": lambda b: b.startswith(b"MEDICALLY NECESSARY") and b"\x1b[" not in b,  # no terminal colours in a file
}


@pytest.mark.parametrize("suffix", EXPLAIN_FILES)
def test_explain_output_format_follows_the_extension(tmp_path, example_case, suffix):
    out = tmp_path / f"out.{suffix}"
    result = run([write(tmp_path, example_case), "--explain", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert EXPLAIN_FILES[suffix](out.read_bytes())


def test_output_format_without_explain_follows_the_extension(tmp_path, example_case):
    case = write(tmp_path, example_case)
    assert run([case, "-o", str(tmp_path / "out.txt")]).exit_code == 0
    assert (tmp_path / "out.txt").read_text().startswith("Case example-initial-diagnostic: MEDICALLY NECESSARY")
    assert run([case, "-o", str(tmp_path / "out.json")]).exit_code == 0
    assert json.loads((tmp_path / "out.json").read_text())["determination"] == "medically_necessary"


@pytest.mark.parametrize("args, message", [
    (["--explain", "--format", "text", "-o", "out.svg"], "'text' contradicts the extension of"),
    (["--explain", "--format", "svg", "-o", "out.png"], "'svg' contradicts the extension of"),
    (["--format", "text", "-o", "out.json"], "'text' contradicts the extension of"),
    (["-o", "out.svg"], "svg needs --explain"),
])
def test_a_format_that_contradicts_the_extension_is_a_usage_error(tmp_path, example_case, args, message):
    case = write(tmp_path, example_case)
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in args]
    result = run([case, *args])
    assert result.exit_code == 2
    assert message in result.output and "--format" in result.output
    assert not list(tmp_path.glob("out.*"))  # nothing written


def test_an_explicit_format_names_a_file_without_a_known_extension(tmp_path, example_case):
    out = tmp_path / "graph.gv"
    assert run([write(tmp_path, example_case), "--explain", "--format", "dot", "-o", str(out)]).exit_code == 0
    assert out.read_text().lstrip().startswith(("digraph", "strict digraph"))


def test_a_file_without_a_known_extension_gets_the_default_format(tmp_path, example_case):
    case = write(tmp_path, example_case)
    assert run([case, "-o", str(tmp_path / "decided")]).exit_code == 0
    assert json.loads((tmp_path / "decided").read_text())["determination"] == "medically_necessary"
    assert run([case, "--explain", "-o", str(tmp_path / "tree")]).exit_code == 0
    assert (tmp_path / "tree").read_text().startswith("MEDICALLY NECESSARY")


def test_explanation_write_picks_the_format_from_the_extension(tmp_path, example_case):
    from kbquery import decide
    from kbquery.explain import explain

    e = explain(decide(example_case))
    e.write(tmp_path / "out.svg")
    assert b"<svg" in (tmp_path / "out.svg").read_bytes()[:400]
    with pytest.raises(ValueError, match="contradicts the extension"):
        e.write(tmp_path / "other.svg", "text")
    with pytest.raises(ValueError, match="cannot tell the format"):
        e.write(tmp_path / "out.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.svg"]  # nothing else written, no temporary left


@pytest.mark.parametrize("explain", [[], ["--explain"]])
def test_output_into_a_missing_folder_is_one_clear_line(tmp_path, example_case, explain):
    missing = tmp_path / "no" / "such"
    result = run([write(tmp_path, example_case), *explain, "-o", str(missing / "out.json")])
    assert result.exit_code == 2
    assert result.output == f"kbquery: cannot write {missing / 'out.json'}: the folder {missing} does not exist\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "no").exists()


def test_an_invalid_case_leaves_the_output_file_as_it_was(tmp_path, example_case):
    out = tmp_path / "out.json"
    out.write_text("earlier\n")
    del example_case["request"]
    assert run([write(tmp_path, example_case), "-o", str(out)]).exit_code == 2
    assert out.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- consoles that cannot show the tree, and Ctrl-C ----------------------------------------------

def kbquery(*args, encoding="utf-8", **kw):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("kbquery")
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    return subprocess.run([str(script), *map(str, args)], capture_output=True, env=env, timeout=120, **kw)


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_explain_on_a_console_that_cannot_show_the_tree(tmp_path, example_case, encoding):
    example_case["conservative_therapy"]["end_date"] = "2025-11-20"  # not met: why not and what would change it
    done = kbquery(write(tmp_path, example_case), "--explain", encoding=encoding)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode(encoding)
    assert text.startswith("NOT MEDICALLY NECESSARY")
    assert "`- x section I" in text and "|- + request: initial diagnostic" in text and "|  |- . request.code = 27096" in text
    assert "What would change it" in text and " -> " in text
    assert not any(c in text for c in "✓✗├└─│→")


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_text_and_json_on_a_console_that_cannot_show_them(tmp_path, example_case, encoding):
    example_case["case_id"] = "Zoë ✓ 😀"
    case = write(tmp_path, example_case)
    text = kbquery(case, "--format", "text", encoding=encoding)
    assert text.returncode == 0 and b"Traceback" not in text.stderr
    assert "MEDICALLY NECESSARY" in text.stdout.decode(encoding)
    data = kbquery(case, "--format", "json", encoding=encoding)  # JSON is UTF-8 whatever the console
    assert data.returncode == 0 and json.loads(data.stdout.decode("utf-8"))["case_id"] == "Zoë ✓ 😀"


def test_sigint_exits_130_quietly(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    if not Path("/proc/self/syscall").exists():
        pytest.skip("needs Linux's /proc to see the process wait on its input")
    script = Path(sys.executable).with_name("kbquery")
    process = subprocess.Popen([str(script), "-", "--explain"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=interruptible)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it waits in read(0, ...) on the case: started, in the command
        fields = Path(f"/proc/{process.pid}/syscall").read_text().split()
        if fields[:2] == ["0", "0x0"]:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == b"" and out == b""


# --- suite case files decide like bare ones --------------------------------------------------------

def test_a_suite_case_file_decides_under_its_own_readings():
    from conftest import CASES

    path = CASES / "I" / "I.A" / "I.A-bilateral-one-injection-reading-met.json"
    result = CliRunner().invoke(main, [str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["determination"] == "medically_necessary"
    assert result.stderr == "readings from the case file: bilateral_injection=one_injection\n"
    switched = CliRunner().invoke(main, [str(path), "--reading", "bilateral_injection=two_injections"])
    assert json.loads(switched.stdout)["unmet"] == ["I.A"]  # a --reading here wins
    assert switched.stderr == ""


def test_every_suite_case_file_decides_on_the_command_line_as_it_expects():
    from conftest import case_files, load_case_file

    for path in case_files():
        result = run([str(path), "--format", "json"])
        assert result.exit_code == 0, f"{path}: {result.output}"
        out = json.loads(result.stdout)
        expect = load_case_file(path)["expect"]
        assert (out["determination"], out["unmet"], out["missing"]) == (
            expect["determination"], expect.get("unmet", []), expect.get("missing", {})), path


def test_errors_in_a_suite_case_file_name_their_path_in_the_file(tmp_path, example_case):
    example_case["pain"]["radiculopaty"] = True
    suite = {"description": "x", "case": example_case, "readings": {"nope": "x"}, "expect": {}}
    result = run([write(tmp_path, suite)])
    assert result.exit_code == 2
    assert "invalid case: case.pain.radiculopaty: unknown key 'radiculopaty'" in result.output
    del example_case["pain"]["radiculopaty"]
    result = run([write(tmp_path, {**suite, "note": 1})])
    assert result.exit_code == 2
    assert "invalid case: note: unknown key 'note' in a suite case file" in result.output
    result = run([write(tmp_path, suite)])
    assert result.exit_code == 2
    assert "invalid case: readings: unknown reading 'nope'" in result.output
    # "case" without "expect" is not a suite file: a bare case with an unknown key
    assert "case: unknown key 'case'" in run([write(tmp_path, {"case": example_case})]).output
