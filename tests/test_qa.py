"""Policy QA over the whole input space: real findings on the project's rules, and each check
reporting what was planted in a deliberately broken copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbquery import InternalError, decide, qa
from kbquery.cli import EXIT_INCOMPLETE, main
from kbquery.knowledge import kb_root, knowledge_base

KBQUERY = str(Path(sys.executable).with_name("kbquery"))


@pytest.fixture(scope="module")
def report():
    kb = knowledge_base()
    r = qa.run(kb)  # bounded in solver conflicts, not seconds: a slow machine gives the same report
    qa.verify(r, kb)
    return r


def findings_of(data: dict) -> dict:
    """A report as JSON without the fields that depend on the machine (its timings)."""
    return {k: v for k, v in json.loads(json.dumps(data)).items() if k not in qa.TIMING}


def by_check(report, check):
    return {f.subject: f for f in report.findings if f.check == check}


def test_the_search_is_exhaustive_and_finds_no_contradiction(report):
    assert report.exhaustive
    assert report.contradictions == []


def test_every_witness_decides_as_its_finding_claims(report):
    witnessed = [f for f in report.findings if f.witness is not None]
    assert witnessed
    for f in witnessed:
        d = decide(f.witness)  # independently of qa.verify
        assert (d.request_kind, d.determination) == (f.claim["request_kind"], f.claim["determination"]), f.subject
        assert f.verified


def test_the_silence_on_a_third_diagnostic_injection_is_a_gap(report):
    gap = by_check(report, "gap")["third_diagnostic"]
    assert gap.claim == {"request_kind": "third_diagnostic", "determination": "not_medically_necessary"}
    diagnostics = [p for p in gap.witness["prior_procedures"] if p.get("purpose") == "diagnostic"]
    assert len(diagnostics) >= 2


def test_iii_and_v_overlap_after_12_months_and_v_prevails(report):
    overlap = by_check(report, "overlap")["III / V"]
    assert "continuation" in overlap.detail and "V prevails (reading continuation_split)" in overlap.detail
    assert overlap.claim["request_kind"] == "continuation"


def test_discordant_diagnostics_overlap_and_iv_prevails(report):
    overlap = by_check(report, "overlap")["I / IV"]
    assert "I is met and IV not met" in overlap.detail
    assert "IV prevails (reading diagnostic_relied_on)" in overlap.detail
    assert overlap.claim["determination"] == "not_medically_necessary"


def test_only_guards_and_other_readings_never_fire(report):
    dead = by_check(report, "dead_rule")
    assert dead, "the kb_error guards never trip"
    assert {f.rule_kind for f in dead.values()} <= {"guard", "other_reading", "shared"}
    # The shared rules are instrumented too; those this policy never fires are the calendar's
    # month-end rules, which the search's grid of dates does not reach (tests/test_calendar.py does).
    shared = {rid for rid, f in dead.items() if f.rule_kind == "shared"}
    assert shared and all(rid.startswith("common/calendar.lp:") for rid in shared), sorted(shared)
    assert any(rid.startswith("common/kleene.lp:") and f.rule_kind == "guard" for rid, f in dead.items())


def test_every_criterion_can_decide(report):
    assert by_check(report, "never_decisive") == {}


def test_reachable_determinations(report):
    assert report.outcomes["nerve_block"] == ["not_medically_necessary"]
    assert report.outcomes["out_of_scope"] == ["not_addressed"]
    assert set(report.outcomes["continuation"]) == {"case_by_case_review", "more_information_needed",
                                                     "not_medically_necessary"}
    assert "medically_necessary" in report.outcomes["initial_therapeutic"]


BROKEN = {
    # a contradiction: pain not over the SI joints whenever it is not below L5 as well
    "contradiction": "status(k(over_sij), not_met) :- value((pain, below_l5), false).\n",
    # a dead rule: a value no case can hold
    "dead": "status(k(over_sij), met) :- value((pain, primarily_over_sij), maybe).\n",
}


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(kb_root(), root, dirs_exist_ok=True)
    section = root / "MC.CP.MP.166" / "section_I.lp"
    section.write_text(section.read_text() + "".join(BROKEN.values()))
    request = root / "MC.CP.MP.166" / "request.lp"
    text = request.read_text()
    gap = "kind(second_diagnostic)   :- request_purpose(diagnostic), history_known, diagnostic_count(1)."
    assert gap in text
    # a gap: a second diagnostic request gets no kind at all
    request.write_text(text.replace(gap, gap[:-1] + ", request_purpose(therapeutic)."))
    return root


@pytest.fixture(scope="module")
def broken_report(broken_root):
    kb = knowledge_base("MC.CP.MP.166", broken_root)
    r = qa.run(kb, max_procedures=2)
    qa.verify(r, kb)
    return r


def test_broken_copy_reports_the_contradiction(broken_report):
    found = by_check(broken_report, "contradiction")
    assert 'node(k(over_sij))' in found
    assert all(f.verified for f in found.values())  # kbquery refuses each witness with an internal error


def test_broken_copy_reports_the_gap(broken_report, broken_root):
    gaps = [f for f in broken_report.findings if f.check == "gap" and f.claim.get("error")]
    assert gaps and all(f.verified for f in gaps)
    with pytest.raises(InternalError, match="no kind"):
        decide(gaps[0].witness, kb=knowledge_base("MC.CP.MP.166", broken_root))


def test_broken_copy_reports_the_dead_rule(broken_report):
    dead = {f.detail: f for f in broken_report.findings if f.check == "dead_rule"}
    assert any("primarily_over_sij), maybe)" in text and f.rule_kind == "dead" for text, f in dead.items())


def test_cli_exits_1_on_a_contradiction(broken_root):
    result = CliRunner().invoke(main, ["qa", "--kb-root", str(broken_root), "--max-procedures", "1",
                                       "--format", "json"])
    assert result.exit_code == 1
    assert any(f["check"] == "contradiction" for f in json.loads(result.output)["findings"])


def test_cli_markdown_names_every_check(report):
    text = qa.markdown(report)
    assert text.splitlines()[0] == f"# Policy QA: {report.policy}"
    for _, title, _ in qa.CHECK_TITLES:
        assert f"## {title}" in text
    assert "The search was exhaustive" in text


# ---------------------------------------------------------------------------- the same report on any machine

def test_every_witness_is_proved_smallest(report):
    assert all(f.minimal for f in report.findings if f.witness is not None)


def test_two_runs_give_the_same_report(report):
    kb = knowledge_base()
    again = qa.run(kb)
    qa.verify(again, kb)
    assert findings_of(again.to_dict()) == findings_of(report.to_dict())


def test_a_loaded_machine_gives_the_same_report(report):
    """A busy loop takes a core while `kbquery qa` runs: the report is the idle one, timings aside."""
    busy = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"
    loops = [subprocess.Popen([sys.executable, "-c", busy])]
    try:
        time.sleep(0.5)
        loaded = subprocess.run([KBQUERY, "qa", "--format", "json"], capture_output=True, text=True, timeout=600)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[0] == '{"exhaustive": true,'
    assert findings_of(json.loads(loaded.stdout)) == findings_of(report.to_dict())


def test_a_search_stopped_at_its_bound_says_so_first_and_fails():
    args = ["qa", "--max-procedures", "1", "--max-conflicts", "20"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == EXIT_INCOMPLETE
    first = result.output.splitlines()[0]
    assert first.startswith('{"exhaustive": false, "incomplete": "NOT EXHAUSTIVE: the search stopped at its bound of 20')
    data = json.loads(result.output)
    assert not data["exhaustive"] and data["conflicts"] <= 20 * data["workers"]
    assert not {f["check"] for f in data["findings"]} & {"dead_rule", "never_decisive", "status_never_reached",
                                                          "unreachable"}
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_INCOMPLETE
    assert result.output.splitlines()[0].startswith("# Policy QA: MC.CP.MP.166: **NOT EXHAUSTIVE")


def test_a_bounded_search_stops_at_the_same_place_every_time():
    """What a search finds before its bound is a function of the bound, not of the time it took."""
    runs = [qa.run(knowledge_base(), max_procedures=1, conflicts=400) for _ in range(2)]
    assert not runs[0].exhaustive and runs[0].outcomes  # stopped part way
    assert findings_of(runs[0].to_dict()) == findings_of(runs[1].to_dict())


def test_the_findings_do_not_depend_on_the_workers():
    """Workers split the targets in a fixed way; only which of the smallest witnesses is shown (and so
    what it is decided) may differ."""
    kb = knowledge_base()
    runs = [qa.run(kb, max_procedures=1, workers=n) for n in (1, 3)]
    assert all(r.exhaustive for r in runs)
    unwitnessed = [[{k: v for k, v in f.__dict__.items() if k not in ("witness", "claim")} for f in r.findings]
                   for r in runs]
    assert unwitnessed[0] == unwitnessed[1] and runs[0].outcomes == runs[1].outcomes


def test_the_search_leaves_out_only_rules_whose_head_nothing_reads():
    from clingo import ast

    program = []
    ast.parse_string("""
        shown(X) :- value(X).                 % read by nothing: left out
        read(X) :- value(X).  :- read(a).     % read by a constraint: kept
        1 { pick(X) : value(X) } 1 :- go.     % a choice constrains, though nothing reads pick/1
        qa_fired("r") :- value(_).            % a twin stays
        #show shown/1.
    """, program.append)
    kept = {str(s) for s in qa.read_only(program)}
    assert not any(s.startswith("shown(X) :-") for s in kept)
    assert "read(X) :- value(X)." in kept and any("read(a)" in s for s in kept)
    assert any("pick(X)" in s for s in kept) and any(s.startswith("qa_fired") for s in kept)


def test_a_witness_not_proved_smallest_within_its_bound_says_so():
    kb = knowledge_base()
    r = qa.run(kb, max_procedures=1, witness_conflicts=1)
    qa.verify(r, kb)
    witnessed = [f for f in r.findings if f.witness is not None]
    assert r.exhaustive and witnessed and not any(f.minimal for f in witnessed)
    assert all(f.verified for f in witnessed)  # the first model's case, still a witness
    assert "witness (not proved smallest)" in qa.markdown(r)
