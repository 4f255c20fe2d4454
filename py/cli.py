"""The kbquery command line."""

from __future__ import annotations

import json
import os
import sys

import click

from . import CaseError, InternalError, decide, formats
from .case import parse
from .coverage import coverage_command
from .knowledge import DEFAULT_POLICY, knowledge_base, policies, scoped_readings
from .report import text as text_report

EXPLAIN_FORMATS = ("dot", "svg", "png", "html")
EXIT_INVALID = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a command, is a case for `decide`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["decide", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C: the shell's status for SIGINT, no traceback, no "Aborted!"
            ctx.exit(EXIT_INTERRUPTED)


def _readings(ctx, param, values) -> dict[str, str]:
    chosen = {}
    for item in values:
        rid, sep, choice = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not ID=CHOICE", ctx=ctx, param=param)
        chosen[rid.strip()] = choice.strip()
    return chosen


reading_option = click.option(
    "--reading", "readings", multiple=True, callback=_readings, metavar="ID=CHOICE",
    help="Switch a reading of the interpretations register, e.g. bilateral_injection=one_injection (repeatable).")
policy_option = click.option("--policy", default=DEFAULT_POLICY, show_default=True, type=click.Choice(policies()),
                             help="The policy folder under kb/.")
report_format_option = click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
                                    show_default=True, help="Markdown for people, JSON for machines.")
max_procedures_option = click.option("--max-procedures", type=click.IntRange(0, 12), default=None,
                                     help="Bound on the prior procedures of a searched case (default: the policy's qa.lp).")


EXIT_INCOMPLETE = 4  # qa, diff: the search stopped at its bound, so the report is not exhaustive


def conflicts_option(default: int):
    return click.option("--max-conflicts", "conflicts", type=click.IntRange(1), default=default, show_default=True,
                        help="Bound on the search, in solver conflicts per worker (a count, not seconds: the same "
                             "rules give the same report on any machine); past it the report says on its first line "
                             f"that it is not exhaustive, and the exit status is {EXIT_INCOMPLETE}.")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kbquery")
def main():
    """Determinations under a health plan's medical policy, decided by clingo.

    \b
    Example:
      kbquery examples/initial-diagnostic.json --format text
    """


@main.command("decide")
@click.argument("case", type=click.File("rb"))
@click.option("--format", "fmt", type=click.Choice(["json", "text", *EXPLAIN_FORMATS]), default=None,
              help="json (the default on a pipe) or text (the default on a terminal); with --explain also "
                   "dot, svg, png or html. With -o, the default is the one the file's extension names.")
@click.option("--explain", is_flag=True, help="Explain: the justification graph, why not, and what would change it.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output, in the format its extension names "
                   "(.json, .txt; with --explain also .dot, .svg, .png, .html).")
@click.option("--collapse-met/--expand", "collapse_met", default=None,
              help="With --explain: fold the met branches everywhere (--collapse-met, the text tree too) or unfold "
                   "them everywhere (--expand). By default pictures and the HTML page fold them, the text tree does not.")
@reading_option
@click.option("--policy", default=None, type=click.Choice(policies()),
              help="Decide under this policy folder under kb/ (default: the case's own `policy` key, else the default policy).")
def decide_command(case, fmt, explain, output, collapse_met, readings, policy):
    """Decide one CASE (a JSON file, or - for standard input).

    CASE is a bare case, or a suite case file ({"description", "case", "readings", "expect"},
    as under tests/cases): its case is decided under its own readings, each --reading given
    here taking the place of the file's for that clause.

    Exit status: 0 for any determination, 2 for a case that is not valid input (each offending
    path is named) or a usage error, 1 for an internal failure, 130 when interrupted.

    \b
    Example:
      kbquery decide examples/initial-diagnostic.json --format json
      cat case.json | kbquery - --format text
      kbquery examples/initial-diagnostic.json --explain
      kbquery examples/initial-diagnostic.json --explain -o out.svg
    """
    fmt = _output_format(fmt, explain, output)
    if output and (problem := formats.folder_problem(output)):  # before any work, and nothing written
        _fail(f"cannot write {output}: {problem}", EXIT_INVALID)
    try:
        determination = decide(parse(case.read()), readings=readings, kb=knowledge_base(policy) if policy else None)
    except CaseError as e:
        for path, message in e.errors:
            click.echo(f"invalid case: {path or '(case)'}: {message}", err=True)
        if e.more:
            click.echo(e.more_line(), err=True)
        sys.exit(EXIT_INVALID)
    except ValueError as e:  # a reading the register does not offer
        raise click.BadParameter(str(e), param_hint="--reading") from None
    except InternalError as e:
        click.echo(f"internal error: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    from_file = {k: v for k, v in determination.readings.items() if readings.get(k) != v}
    if from_file:  # a suite case file's own readings: said, since they change what is decided
        click.echo("readings from the case file: " + ", ".join(f"{k}={v}" for k, v in sorted(from_file.items())),
                   err=True)
    if explain:
        from .explain import explain as explain_determination  # networkx and Graphviz only when asked

        explanation = explain_determination(determination, collapse_met)
        if output:
            _write(output, lambda: explanation.write(output, fmt))
        elif fmt == "text":
            _echo_text(explanation.text())
        else:
            _echo_bytes(explanation.render(fmt) + (b"" if fmt in ("svg", "png") else b"\n"))
        return
    if fmt == "json":
        data = (json.dumps(determination.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        if output:
            _write(output, lambda: formats.write_whole(output, data))
        else:
            _echo_bytes(data)
    elif output:
        _write(output, lambda: formats.write_whole(output, text_report(determination).encode()))
    else:
        _echo_text(text_report(determination))


def _output_format(fmt: str | None, explain: bool, output: str | None) -> str:
    """The format asked for, else the one the output file's extension names, else the default
    (text with --explain or on a terminal, JSON otherwise); a contradiction is a usage error."""
    if output:
        try:
            fmt = formats.choose(output, fmt, default="text" if explain else "json")
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--format") from None
    if fmt in EXPLAIN_FORMATS and not explain:
        raise click.BadParameter(f"{fmt} needs --explain", param_hint="--format")
    return fmt or ("text" if explain or (sys.stdout.isatty() and not output) else "json")


def _fail(message: str, status: int) -> None:
    click.echo(f"kbquery: {message}", err=True)
    sys.exit(status)


def _write(output: str, write) -> None:
    try:
        write()
    except OSError as e:  # permissions, a full disk: one line, and write_whole left nothing behind
        _fail(f"cannot write {output}: {e.strerror or e}", EXIT_INVALID)


def _echo_text(text: str) -> None:
    """Text for people, as this console can show it (a cp1252 or ASCII console gets ASCII trees)."""
    click.echo(formats.for_console(text, getattr(sys.stdout, "encoding", None)), nl=False, color=None)


def _echo_bytes(data: bytes) -> None:
    """A file format (JSON, DOT, SVG, PNG, HTML) as its own bytes, whatever the console's encoding."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@main.command()
@policy_option
def schema(policy):
    """Print the JSON Schema (draft 2020-12) of a case.

    \b
    Example:
      kbquery schema > case.schema.json
    """
    click.echo(json.dumps(knowledge_base(policy).schema, indent=2))


@main.command("readings")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def readings_command(policy, fmt):
    """Print the interpretations register: each ambiguous clause, the reading applied and the alternatives.

    \b
    Example:
      kbquery readings --format json
    """
    register = knowledge_base(policy).readings
    if fmt == "json":
        click.echo(json.dumps({r.id: {"clause": r.clause, "question": r.question, "default": r.default,
                                      "options": r.options} for r in register.values()}, indent=2))
        return
    for r in register.values():
        click.echo(f"{r.id} ({r.clause}): {r.question}")
        for choice, meaning in r.options.items():
            mark = "*" if choice == r.default else " "
            click.echo(f"  {mark} {choice}: {meaning}")
        click.echo()


@main.command("policies")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def policies_command(fmt):
    """List the installed policies: id, revision, title, source, and whether the encoding rests on a
    restatement rather than the policy's own text. A case chooses one with its `policy` key.

    \b
    Example:
      kbquery policies --format json
    """
    installed = [knowledge_base(name) for name in policies()]
    if fmt == "json":
        click.echo(json.dumps([{"id": kb.id, "revision": kb.revision, "title": kb.title, "source": kb.source,
                                "default": kb.id == DEFAULT_POLICY, "restatement": kb.restatement}
                               for kb in installed], indent=2))
        return
    for kb in installed:
        click.echo(f"{kb.id} (revision {kb.revision}){' [default]' if kb.id == DEFAULT_POLICY else ''}: {kb.title}")
        click.echo(f"  source: {kb.source}")
        if kb.restatement:
            click.echo(f"  restatement: {kb.restatement}")
        click.echo()


@main.command("document")
@policy_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="The HTML file to write (default: standard output).")
@click.option("--cases", type=click.Path(file_okay=False, exists=True), default=None,
              help="The folder of suite case files shown beside each criterion (default: the repository's "
                   "tests/cases, when there is one).")
@click.option("--qa-report", type=click.File("rb"), default=None,
              help="A saved `kbquery qa --format json` report to show, instead of running QA (some 10 s).")
@click.option("--no-qa", is_flag=True, help="Show no QA findings, and do not run QA.")
def document_command(policy, output, cases, qa_report, no_qa):
    """Write the policy as a document a policy committee can sign off: one self-contained HTML page.

    The policy's own text, in its own order and numbering (the file policy.json's "source" names),
    with beside each criterion the rules that encode it (their ASP, under the comment quoting the
    policy), a plain-language line generated from its condition tree, the readings of the register
    that touch it with their alternatives and the one applied, its thresholds, the suite cases that
    show it met, not met and unknown, its coverage, and the QA findings that concern it. Sentences
    no rule encodes are greyed out and say so. The knowledge base's digest and revision stand on
    every page.

    There is no PDF output (no well-kept library renders it without a browser): print the page
    from a browser (Print, Save as PDF). Its print stylesheet makes A4 landscape pages, each headed
    with the policy, its revision (and, for a restatement, that it is one) and footed with the
    digest and the page number; the rules of the conditions under a criterion print as they are
    on screen, folded or unfolded.

    \b
    Example:
      kbquery document -o policy.html
      kbquery document --no-qa -o policy.html
      kbquery qa --format json > qa.json; kbquery document --qa-report qa.json -o policy.html
    """
    from pathlib import Path

    from . import document

    if output and (problem := formats.folder_problem(output)):  # before any work, and nothing written
        _fail(f"cannot write {output}: {problem}", EXIT_INVALID)
    kb = knowledge_base(policy)
    folder = Path(cases) if cases else kb.root.parent / "tests" / "cases"
    if no_qa:
        report = None
    elif qa_report is not None:
        report = json.loads(qa_report.read())
        if report.get("policy") != kb.id:
            raise click.BadParameter(f"the report is of policy {report.get('policy')!r}, not {kb.id}",
                                     param_hint="--qa-report")
    else:
        from . import qa

        report = qa.run(kb).to_dict()
    doc = document.build(kb, folder if folder.is_dir() else None, report)
    target = Path(output) if output else None
    page = document.render(doc, target)
    if target:
        _write(output, lambda: formats.write_whole(output, page.encode("utf-8")))
    else:
        _echo_bytes(page.encode("utf-8"))


main.add_command(coverage_command)


@main.command("qa")
@policy_option
@reading_option
@click.option("--kb-root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Another knowledge base folder (holding common/ and the policy's folder), e.g. a copy under review.")
@report_format_option
@max_procedures_option
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Processes searching in parallel, each a fixed share of the targets.")
@click.option("--witnesses", type=click.Path(file_okay=False), default=None,
              help="Also write each witness as a case file into this folder.")
@conflicts_option(500_000)
def qa_command(policy, readings, kb_root, fmt, max_procedures, workers, witnesses, conflicts):
    """Check the rules over the whole input space: contradictions, gaps, overlaps, dead rules,
    criteria that never decide, unreachable determinations; each finding with a witness case
    that kbquery then decides as the finding says. The report depends on the rules alone.

    Exit status 1 when the rules contradict themselves (or leave an in-scope request undecided),
    4 when the search stopped at --max-conflicts (the first line of the report says so).

    \b
    Example:
      kbquery qa
      kbquery qa --format json --witnesses qa-witnesses/
      kbquery qa --reading general_criteria=own_section_only
    """
    from pathlib import Path

    from . import qa

    kb = knowledge_base(policy, Path(kb_root) if kb_root else None)
    try:
        kb.reading_options(readings)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--reading") from None
    report = qa.run(kb, readings, max_procedures, conflicts=conflicts, workers=workers)
    qa.verify(report, kb)
    if witnesses:
        folder = Path(witnesses)
        folder.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(x for x in report.findings if x.witness is not None):
            (folder / f"{i:02d}-{f.check}.json").write_text(json.dumps(f.witness, indent=2) + "\n")
    click.echo(qa.to_json(report.to_dict()) if fmt == "json" else qa.markdown(report), nl=fmt == "json")
    if report.contradictions:
        sys.exit(EXIT_INTERNAL)
    if not report.exhaustive:
        sys.exit(EXIT_INCOMPLETE)


@main.command("diff")
@policy_option
@reading_option
@click.option("--base", "base", multiple=True, callback=_readings, metavar="ID=CHOICE",
              help="A reading to switch on the base side too (default: the register's defaults).")
@report_format_option
@max_procedures_option
@conflicts_option(500_000)
def diff_command(policy, readings, base, fmt, max_procedures, conflicts):
    """List the kinds of request whose determination changes when readings are switched,
    each with a witness case that kbquery decides both ways. The list depends on the rules alone.

    Exit status 4 when the search stopped at --max-conflicts (the first line of the report says so).

    \b
    Example:
      kbquery diff --reading bilateral_injection=one_injection
      kbquery diff --reading general_criteria=own_section_only --format json
    """
    from . import diff, qa

    if not readings:
        raise click.UsageError("name at least one --reading ID=CHOICE to compare with the defaults")
    kb = knowledge_base(policy)
    try:
        result = diff.run(kb, readings, base, max_procedures, conflicts=conflicts)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--reading") from None
    diff.verify(result, kb)
    click.echo(qa.to_json(result.to_dict()) if fmt == "json" else diff.markdown(result), nl=fmt == "json")
    if not result.exhaustive:
        sys.exit(EXIT_INCOMPLETE)


@main.command("compare")
@click.argument("a")
@click.argument("b")
@reading_option
@click.option("--reading-a", "readings_a", multiple=True, callback=_readings, metavar="ID=CHOICE",
              help="Switch a reading of A's register alone (repeatable).")
@click.option("--reading-b", "readings_b", multiple=True, callback=_readings, metavar="ID=CHOICE",
              help="Switch a reading of B's register alone (repeatable).")
@click.option("--kb-root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Compare the policies of another knowledge base folder (a copy of kb/, say).")
@report_format_option
@max_procedures_option
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Processes, each grounding both policies once and searching a fixed share.")
@click.option("--witnesses", type=click.Path(file_okay=False), default=None,
              help="Write each witness as a case file (no policy key: it decides under either) into this "
                   "folder, with index.json saying how each policy decides it.")
@conflicts_option(500_000)
def compare_command(a, b, readings, readings_a, readings_b, kb_root, fmt, max_procedures, workers, witnesses,
                    conflicts):
    """Compare two policies A and B over one input space: every kind of request they decide
    differently, each with the smallest witness case, decided again by kbquery under both; the
    criteria that make each difference; and first, an audit table classifying each kind of request
    under A (a plan's policy) against B (the coverage policy it must not be stricter than): fully
    established by B and no stricter, stricter than B, B silent, or B explicitly allowing
    flexibility. Findings that rest on a reading B's register marks VERIFY say so. A --reading
    applies to each policy whose register has it; --reading-a and --reading-b to one side.

    Exit status 1 when a witness is not decided as claimed (an internal failure), 4 when the search
    stopped at --max-conflicts (the first line of the report says so).

    \b
    Example:
      kbquery compare PLAN COVERAGE
      kbquery compare PLAN COVERAGE --format json --witnesses compare-witnesses/
      kbquery compare PLAN COVERAGE --reading-b ID=CHOICE
    """
    from pathlib import Path

    from . import compare, qa

    root = Path(kb_root) if kb_root else None
    try:
        kb_a, kb_b = knowledge_base(a, root), knowledge_base(b, root)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="A / B") from None
    try:
        scoped = scoped_readings(readings, [kb_a, kb_b])
        chosen_a = {**scoped[kb_a], **readings_a}
        chosen_b = {**scoped[kb_b], **readings_b}
        result = compare.run(kb_a, kb_b, chosen_a, chosen_b, max_procedures, conflicts=conflicts, workers=workers)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--reading") from None
    compare.verify(result, kb_a, kb_b)
    if witnesses:
        compare.write_witnesses(result, Path(witnesses))
    click.echo(qa.to_json(result.to_dict()) if fmt == "json" else
               compare.markdown(result, {"a": kb_a.clauses, "b": kb_b.clauses}), nl=fmt == "json")
    if any(w.verified is False for w in result.witnesses):
        sys.exit(EXIT_INTERNAL)
    if not result.exhaustive:
        sys.exit(EXIT_INCOMPLETE)


# The examples name installed policies: the default one (a plan's) against another (kbquery policies).
_COVERAGE = next((p for p in policies() if p != DEFAULT_POLICY), DEFAULT_POLICY)
compare_command.help = compare_command.help.replace("PLAN", DEFAULT_POLICY).replace("COVERAGE", _COVERAGE)


@main.command("batch")
@click.argument("source", type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The JSONL file to write.")
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1, show_default="the number of cores",
              help="Worker processes (or, with --dask local, Dask workers).")
@click.option("--explain", is_flag=True, help="Add each determination's justification graph (JSON) to its line.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run into the same output: nothing redone, nothing lost.")
@click.option("--dask", "scheduler", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster: a scheduler address (tcp://host:8786), or `local` for a local cluster.")
@click.option("--policy", default=None, type=click.Choice(policies()),
              help="Decide every case under this policy (default: the policy each case names, else the default one).")
@reading_option
def batch_command(source, output, workers, explain, resume, scheduler, policy, readings):
    """Decide every case of SOURCE (a JSONL file, one case a line, or a folder of case files)
    into a JSONL file: one line for every input line, in input order; an invalid case becomes an
    error record with its line number and the validation errors. A summary counts the outcomes.
    Lines end at a line feed alone (JSON Lines: a carriage return inside a line is whitespace),
    each read as UTF-8. OUTPUT.manifest.json records what the output is made from, and --resume
    refuses to continue it from another input or readings. A --reading applies to each policy
    whose register has it.

    Exit status: 0 when every line was decided, 3 when the run completed but some lines were not
    valid cases (each has its error record), 1 when some line hit an internal failure, 2 for a
    usage error (an existing output without --resume, a --resume that does not match, an
    unreachable --dask scheduler), 130 when interrupted (the records written so far are whole).

    \b
    Example:
      kbquery batch cases.jsonl -o decided.jsonl --workers 2
      kbquery batch cases.jsonl -o decided.jsonl --resume
      kbquery batch tests/cases -o decided.jsonl --dask tcp://scheduler:8786
    """
    from pathlib import Path

    from . import batch

    try:
        scoped_readings(readings, [knowledge_base(p) for p in ([policy] if policy else policies())])
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--reading") from None
    client, cluster = _dask_client(scheduler, workers) if scheduler else (None, None)
    try:
        summary = batch.run(Path(source), Path(output), workers=workers, readings=readings or None,
                            explain=explain, resume=resume, client=client, policy=policy)
    except (FileExistsError, ValueError) as e:
        raise click.UsageError(str(e)) from None
    except KeyboardInterrupt:
        click.echo(f"interrupted: {batch.written(Path(output))} records written whole to {output}; "
                   "run the same command with --resume to continue", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    outcomes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in summary.to_dict()["outcomes"].items())
    click.echo(f"{summary.total} cases ({summary.resumed_from} from an earlier run): {outcomes}")
    if summary.counts["internal"]:
        sys.exit(EXIT_INTERNAL)
    if summary.counts["invalid_case"]:
        sys.exit(EXIT_SOME_INVALID)


EXIT_SOME_INVALID = 3  # batch: completed, but some lines were not valid cases


def _dask_client(scheduler: str, workers: int):
    """(client, local cluster or None); an address that is malformed or does not answer: one line, exit 2."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.UsageError("--dask needs Dask: pip install -e '.[dask]'") from None
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) \
            if scheduler == "local" else None
        return Client(cluster or scheduler), cluster
    except (OSError, ValueError, TypeError) as e:  # the connect timeout is Dask's distributed.comm.timeouts.connect
        click.echo(f"kbquery batch: cannot use the Dask scheduler {scheduler!r}: {e}", err=True)
        sys.exit(EXIT_INVALID)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (the default answers this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--max-body", type=click.IntRange(1, 5_000_000), default=1_000_000, show_default=True,
              help="The largest request body, in bytes (413 beyond it).")
def serve_command(host, port, max_body):
    """Serve determinations over HTTP: POST /v1/decide and /v1/explain, GET /v1/policies, the
    reviewer page at /, FHIR questionnaires (/fhir/Questionnaire/ID) and CDS Hooks (/cds-services);
    the OpenAPI documentation at /docs. Bodies are validated as the command line validates a case
    (HTTP 422 naming each offending path). Needs the serve extra: pip install -e '.[serve]'.

    \b
    Example:
      kbquery serve --port 8000
      curl -s --data-binary @examples/initial-diagnostic.json localhost:8000/v1/decide
    """
    try:
        from .service import serve
    except ImportError as e:
        _fail(f"serve needs the serve extra (pip install -e '.[serve]'): {e}", EXIT_INVALID)
    serve(host, port, max_body)


@main.command("questionnaire")
@policy_option
def questionnaire_command(policy):
    """Print the FHIR R4 Questionnaire (Da Vinci DTR) of a policy, generated from its rules: the
    case fields the rules read, grouped by criterion in the policy's words, typed from the case
    schema. `kbquery serve` serves it at /fhir/Questionnaire/ID. Needs the serve extra to validate.

    \b
    Example:
      kbquery questionnaire > questionnaire.json
    """
    from .questionnaire import questionnaire

    click.echo(json.dumps(questionnaire(policy), indent=2, ensure_ascii=False))
