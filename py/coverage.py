"""Test coverage of a folder of case files: statuses per criterion and MC/DC pairs.

A criterion C has an MC/DC pair when two cases differ in C alone and the determination flips:
both evaluate the same criteria, with the same statuses except C's (and those of the criteria
above or below it in the outline, which follow it), and decide differently. A criterion the
rules declare an outright exclusion (never met when evaluated) needs no pair.
Knows nothing of any one policy: the criteria come from the knowledge base, the fields from
its case schema, and what a criterion looked at from the determination itself.
"""

from __future__ import annotations

import copy
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import click

from . import CaseError, InternalError, decide
from .case import subschema, walk, with_values
from .determination import Determination, clause_order
from .knowledge import DEFAULT_POLICY, knowledge_base, policies
from .symbols import path_text, symbol_path, text_path

STATUSES = ("met", "not_met", "unknown")
EXIT_MISSING = 1
EXIT_NO_CASES = 2
SHOW_SKIPPED = 20  # files named when none could be decided; the rest are counted
DEFAULT_MAX_TRIES = 500  # single-field changes per criterion: an exhaustive search takes minutes


@dataclass
class Decided:
    """One case file and how it decides under its own readings."""

    path: Path
    case: dict  # as validated (a suite case file's "case")
    readings: dict[str, str]  # as applied (a suite case file's own)
    determination: str
    statuses: dict[str, str]  # only the criteria the case evaluates
    named: dict[str, set]  # criterion -> paths its failing reasons or `missing` name
    policy: str = DEFAULT_POLICY  # the policy it was decided under (the case's `policy` key)


def decide_document(document: dict, path: Path) -> Decided:
    """A case file's content decided: a bare case, or a suite case file under its own readings."""
    return decided(decide(document), path)


def decided(d: Determination, path: Path) -> Decided:
    named: dict[str, set] = defaultdict(set)
    leaves = defaultdict(set)
    for cid, leaf in d.answer.args("reason", 2):
        leaves[leaf].add(cid.string)
    for node, field, _ in d.answer.args("observed", 3):
        for cid in leaves.get(node, ()):
            named[cid].add(symbol_path(field))
    for cid, paths in d.missing.items():
        named[cid].update(map(text_path, paths))
    return Decided(path, d.case, d.readings, d.determination, {c.id: c.status for c in d.criteria}, dict(named),
                   d.policy["id"])


def load_folder(folder: Path, policy: str = DEFAULT_POLICY) -> tuple[list[Decided], list[dict]]:
    """Every *.json case file under the folder decided under the policy; the ones that cannot be,
    or that name another policy (whose criteria would mix with this one's), with why."""
    decided, skipped = [], []
    for path in sorted(folder.rglob("*.json")):
        try:
            case = decide_document(json.loads(path.read_text(encoding="utf-8")), path)
        except (OSError, ValueError, KeyError, TypeError, InternalError) as e:  # CaseError is a ValueError
            skipped.append({"file": str(path), "error": f"{type(e).__name__}: {e}"})
            continue
        if case.policy == policy:
            decided.append(case)
        else:
            skipped.append({"file": str(path), "error": f"decided under policy {case.policy}, not {policy} "
                                                        f"(--policy {case.policy} counts it)"})
    return decided, skipped


def ordered_criteria(policy: str) -> list[str]:
    return sorted(knowledge_base(policy).clauses, key=clause_order)


def status_counts(cases: list[Decided], criteria: list[str]) -> dict[str, dict[str, int]]:
    counts = {cid: dict.fromkeys(STATUSES, 0) for cid in criteria}
    for case in cases:
        for cid, status in case.statuses.items():
            counts.setdefault(cid, dict.fromkeys(STATUSES, 0))[status] += 1
    return counts


# --- MC/DC pairs ---------------------------------------------------------------------------


def related(a: str, b: str) -> bool:
    """Whether two ids lie on one branch of the policy's outline (I.G and I.G.1.a, V.C and V.C.1)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def statuses_without(statuses: dict[str, str], cid: str) -> frozenset:
    """The status vector without C and its outline relatives, which change with it by construction:
    cases that can pair on C share it exactly."""
    return frozenset((k, v) for k, v in statuses.items() if not related(k, cid))


def is_mcdc_pair(a: Decided, b: Decided, cid: str) -> bool:
    """Whether a and b differ in C's status alone (same criteria evaluated) and decide differently."""
    return (cid in a.statuses and cid in b.statuses and a.statuses[cid] != b.statuses[cid]
            and statuses_without(a.statuses, cid) == statuses_without(b.statuses, cid)
            and a.determination != b.determination)


def find_pairs(cases: list[Decided], criteria: list[str]) -> dict[str, tuple[Decided, Decided] | None]:
    """An MC/DC pair per criterion (the first found, in file order), from an index on the vector without C."""
    index: dict[tuple, list[Decided]] = defaultdict(list)
    for case in cases:
        for cid in case.statuses:
            index[(cid, statuses_without(case.statuses, cid))].append(case)
    pairs: dict[str, tuple[Decided, Decided] | None] = dict.fromkeys(criteria)
    for (cid, _), group in index.items():
        found = next(((a, b) for a, b in combinations(group, 2) if is_mcdc_pair(a, b, cid)), None)
        if found and pairs.get(cid) is None:
            pairs[cid] = found
    return pairs


# --- constructing a missing pair by single-field mutations ----------------------------------


def get_at(value, path: tuple):
    for step in path:
        value = value[step]
    return value


def without(case: dict, path: tuple) -> dict:
    new = copy.deepcopy(case)
    del get_at(new, path[:-1])[path[-1]]
    return new


def scalar_choices(sub: dict, value, named: bool) -> list:
    """Plausible other values for a scalar field: the boolean flip, the enum's alternatives and,
    for a field the criterion named, an integer halved, doubled, then at the schema's bounds."""
    if sub.get("type") == "boolean":
        return [v for v in (True, False) if v != value]
    if "enum" in sub:
        return [v for v in sub["enum"] if v != value]
    if named and sub.get("type") == "integer" and isinstance(value, int):
        low, high = sub.get("minimum", -sys.maxsize), sub.get("maximum", sys.maxsize)
        tries = [value // 2, value * 2, sub.get("minimum"), sub.get("maximum")]
        return list(dict.fromkeys(v for v in tries if v is not None and low <= v <= high and v != value))
    return []


def show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def field_mutations(case: dict, schema: dict, path: tuple, named: bool) -> Iterator[tuple[str, dict]]:
    """Single changes of one field of the case: (description, mutated case)."""
    where = path_text(path)
    sub, parent_sub = subschema(schema, path), subschema(schema, path[:-1])
    try:
        value = get_at(case, path)
    except (KeyError, IndexError, TypeError):  # absent: document it, if it is a scalar we can fill
        for choice in scalar_choices(sub, None, named):
            yield f"{where}: documented as {show(choice)}", with_values(case, [(path, choice)])
        return
    siblings = get_at(case, path[:-1]) if path else None
    in_unique_list = isinstance(siblings, list) and parent_sub.get("uniqueItems")
    for choice in scalar_choices(sub, value, named) if not isinstance(value, (dict, list)) else ():
        if not (in_unique_list and choice in siblings):
            yield f"{where}: {show(value)} -> {show(choice)}", with_values(case, [(path, choice)])
    if isinstance(value, list) and "enum" in sub.get("items", {}) and len(value) < sub.get("maxItems", sys.maxsize):
        for item in sub["items"]["enum"]:
            if item not in value:
                yield f"{where}: {show(item)} added", with_values(case, [(path, [*value, item])])
    if isinstance(siblings, list) or (path and path[-1] not in parent_sub.get("required", [])):
        yield f"{where}: removed", without(case, path)


def named_fields(source: Decided, cid: str) -> list[tuple]:
    return sorted(source.named.get(cid, ()), key=str)


def candidates(sources: list[Decided], cid: str, schema: dict) -> Iterator[tuple[Decided, str, dict]]:
    """(source, change, mutated case): the fields C named in every source first (its likeliest
    switches), then every other field of every source."""
    for source in sources:
        for path in named_fields(source, cid):
            for change, case in field_mutations(source.case, schema, path, named=True):
                yield source, change, case
    for source in sources:
        named = named_fields(source, cid)
        for path, _, _ in walk(source.case, schema):
            if path and path[0] != "case_id" and path not in named:
                for change, case in field_mutations(source.case, schema, path, named=False):
                    yield source, change, case


class Decider:
    """Decides mutated cases once each: the same mutation is tried for many criteria."""

    def __init__(self):
        self.seen: dict[str, Decided | None] = {}

    def __call__(self, case: dict, readings: dict[str, str], path: Path) -> Decided | None:
        key = json.dumps([case, readings], sort_keys=True)
        if key not in self.seen:
            try:
                self.seen[key] = decided(decide(case, readings=readings), path)
            except (CaseError, ValueError, InternalError):  # the mutation made an invalid case
                self.seen[key] = None
        return self.seen[key]


def construct_partner(cases: list[Decided], cid: str, schema: dict, decider: Decider,
                      max_tries: int) -> tuple[tuple[Decided, Decided, str] | None, int, bool]:
    """A single-field mutation of a case that pairs with it on C, as (source, partner, change) or
    None; and how many mutations were tried and whether that was all of them."""
    sources = [c for c in cases if cid in c.statuses]
    tried = 0
    for source, change, case in candidates(sources, cid, schema):
        if max_tries and tried >= max_tries:
            return None, tried, False
        tried += 1
        partner = decider(case, source.readings, source.path)
        if partner and is_mcdc_pair(source, partner, cid):
            return (source, partner, change), tried, True
    return None, tried, True


def partner_file(source: Decided, partner: Decided, cid: str, change: str) -> dict:
    """The partner as a case file, its `expect` read from the decision."""
    d = decide(partner.case, readings=partner.readings)
    case_id = f"mcdc-{cid}-{source.case.get('case_id', source.path.stem)}"[:200]  # the schema's maxLength
    case = {**partner.case, "case_id": case_id}
    spec = {"description": f"Generated for the MC/DC pair of {cid}: {source.path} with {change}, so that only {cid} "
                           f"changes status ({source.statuses[cid]} -> {partner.statuses[cid]}) and the determination "
                           f"flips ({source.determination} -> {partner.determination}).",
            "case": case}
    if partner.readings:
        spec["readings"] = partner.readings
    spec["expect"] = {"determination": d.determination, "request_kind": d.request_kind, "unmet": d.unmet,
                      "missing": d.missing, "statuses": {c.id: c.status for c in d.criteria}}
    return spec


def write_missing(cases: list[Decided], missing: list[str], schema: dict, folder: Path,
                  max_tries: int) -> tuple[list[dict], list[dict]]:
    """Write a partner case file for each criterion without a pair; return what was written and what could not be."""
    decider, written, failed = Decider(), [], []
    for cid in missing:
        found, tried, exhausted = construct_partner(cases, cid, schema, decider, max_tries)
        if found is None:
            failed.append({"criterion": cid, "tried": tried, "exhausted": exhausted})
            continue
        source, partner, change = found
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"mcdc-{cid}.json"
        target.write_text(json.dumps(partner_file(source, partner, cid, change), indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append({"criterion": cid, "file": str(target), "partner_of": str(source.path), "change": change,
                        "statuses": [source.statuses[cid], partner.statuses[cid]],
                        "determinations": [source.determination, partner.determination]})
    return written, failed


# --- the report ------------------------------------------------------------------------------


def pair_entry(pair: tuple[Decided, Decided] | None, cid: str) -> dict | None:
    if pair is None:
        return None
    return {"files": [str(c.path) for c in pair], "statuses": [c.statuses[cid] for c in pair],
            "determinations": [c.determination for c in pair]}


def coverage(folder: Path, policy: str = DEFAULT_POLICY, write_to: Path | None = None,
             max_tries: int = DEFAULT_MAX_TRIES) -> dict:
    """The coverage report of a folder as plain data (what both output formats show)."""
    cases, skipped = load_folder(folder, policy)
    criteria = ordered_criteria(policy)
    counts = status_counts(cases, criteria)
    pairs = find_pairs(cases, criteria)
    criteria = sorted(counts, key=clause_order)  # and any criterion a case evaluates that the kb does not list
    exclusions = {c.string for (c,) in knowledge_base(policy).static("outright_exclusion", 1)}
    report = {
        "folder": str(folder),
        "policy": policy,
        "cases": len(cases),
        "skipped": skipped,
        "criteria": [{"id": cid, **counts[cid], "mcdc_pair": pair_entry(pairs.get(cid), cid),
                      "outright_exclusion": cid in exclusions} for cid in criteria],
        "missing": {**{status: [cid for cid in criteria if not counts[cid][status]] for status in STATUSES},
                    "mcdc_pair": [cid for cid in criteria if pairs.get(cid) is None and cid not in exclusions]},
    }
    if write_to is not None:
        written, failed = write_missing(cases, report["missing"]["mcdc_pair"], knowledge_base(policy).schema,
                                        write_to, max_tries)
        report["generated"] = {"folder": str(write_to), "written": written, "not_constructed": failed}
    return report


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def markdown(report: dict) -> str:
    lines = [f"# Test coverage of `{report['folder']}` ({report['policy']})", "",
             f"{report['cases']} case files decided; {len(report['criteria'])} criteria; "
             f"{len(report['missing']['mcdc_pair'])} without an MC/DC pair.", "",
             "## Statuses per criterion", "",
             "| criterion | met | not met | unknown | MC/DC pair |", "|---|--:|--:|--:|---|"]
    for c in report["criteria"]:
        pair = "yes" if c["mcdc_pair"] else "n/a (outright exclusion)" if c["outright_exclusion"] else "**missing**"
        lines.append(f"| {c['id']} | {c['met']} | {c['not_met']} | {c['unknown']} | {pair} |")
    lines += ["", "## MC/DC pairs", ""]
    for c in report["criteria"]:
        pair = c["mcdc_pair"]
        if pair is None:
            lines.append(f"- **{c['id']}**: " + ("not applicable, an outright exclusion" if c["outright_exclusion"] else "missing"))
        else:
            a, b = [f"`{f}` ({s}, {d})" for f, s, d in zip(pair["files"], pair["statuses"], pair["determinations"])]
            lines.append(f"- **{c['id']}**: {a} / {b}")
    missing = report["missing"]
    lines += ["", "## Missing", "",
              f"- No met case: {_ids(missing['met'])}",
              f"- No not-met case: {_ids(missing['not_met'])}",
              f"- No unknown case: {_ids(missing['unknown'])}",
              f"- No MC/DC pair: {_ids(missing['mcdc_pair'])}"]
    if "generated" in report:
        generated = report["generated"]
        lines += ["", f"## Generated into `{generated['folder']}`", ""]
        for e in sorted([*generated["written"], *generated["not_constructed"]],
                        key=lambda e: clause_order(e["criterion"])):
            if "file" in e:
                lines.append(f"- **{e['criterion']}**: wrote `{e['file']}`, partner of `{e['partner_of']}` "
                             f"({e['change']}): {' -> '.join(e['statuses'])}, {' -> '.join(e['determinations'])}")
            else:
                how = "tried every one of" if e["exhausted"] else "stopped at --max-tries after"
                lines.append(f"- **{e['criterion']}**: could not construct ({how} {e['tried']} single-field changes)")
        if not generated["written"] and not generated["not_constructed"]:
            lines.append("- Nothing was missing.")
    if report["skipped"]:
        lines += ["", "## Skipped files", ""] + [f"- `{s['file']}`: {s['error']}" for s in report["skipped"]]
    return "\n".join(lines) + "\n"


@click.command("coverage")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True,
              help="markdown for people, json for machines; the same content.")
@click.option("--write-missing", "write_to", type=click.Path(file_okay=False, writable=True, path_type=Path),
              metavar="DIR", help="For each criterion without an MC/DC pair, try single-field changes of the folder's "
                                  "cases and write a partner case file (mcdc-ID.json) into DIR.")
@click.option("--max-tries", default=DEFAULT_MAX_TRIES, show_default=True, type=click.IntRange(min=0),
              help="With --write-missing: single-field changes to try per criterion (0: all of them).")
@click.option("--fail-on-missing", is_flag=True, help="Exit 1 when the folder lacks an MC/DC pair for any criterion.")
@click.option("--policy", default=DEFAULT_POLICY, show_default=True, type=click.Choice(policies()),
              help="The policy folder under kb/ whose criteria are counted.")
def coverage_command(folder, fmt, write_to, max_tries, fail_on_missing, policy):
    """Test coverage of a FOLDER of case files (*.json, searched recursively).

    Per criterion: how many cases make it met, not met and unknown, and an MC/DC pair: two cases
    that differ in that criterion's status alone and decide differently. Lists what is missing.
    Files that cannot be decided, or that name another policy than --policy, are listed and left out.

    A file is a bare case (as under examples/) or a suite case file holding one under "case"
    beside its "expect" (as under tests/cases), decided under its own "readings".

    Exit status: 0; with --fail-on-missing, 1 when the FOLDER lacks any MC/DC pair (whatever
    --write-missing wrote elsewhere); 2 when no file of the FOLDER could be decided.

    \b
    Example:
      kbquery coverage tests/cases
      kbquery coverage examples
      kbquery coverage tests/cases --format json --fail-on-missing
      kbquery coverage tests/cases --write-missing /tmp/mcdc
    """
    report = coverage(folder, policy, write_to, max_tries)
    if not report["cases"]:  # a report on nothing would read as a folder that covers nothing
        skipped = report["skipped"]
        why = f"{len(skipped)} *.json files, none a valid case" if skipped else "it holds no *.json file"
        click.echo(f"kbquery coverage: no case file under {folder} could be decided ({why})", err=True)
        for s in skipped[:SHOW_SKIPPED]:
            click.echo(f"  {s['file']}: {s['error']}", err=True)
        if len(skipped) > SHOW_SKIPPED:
            click.echo(f"  ... and {len(skipped) - SHOW_SKIPPED} more", err=True)
        sys.exit(EXIT_NO_CASES)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(markdown(report), nl=False)
    if fail_on_missing and report["missing"]["mcdc_pair"]:
        sys.exit(EXIT_MISSING)
