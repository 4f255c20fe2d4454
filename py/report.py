"""A determination as text a reviewer reads in a terminal."""

from __future__ import annotations

import textwrap

from .determination import Determination

_MARK = {"met": "met     ", "not_met": "NOT MET ", "unknown": "unknown "}


def text(d: Determination, width: int = 100) -> str:
    wrap = lambda s, indent: textwrap.fill(s, width, initial_indent=indent, subsequent_indent=indent)  # noqa: E731
    lines = [
        f"Case {d.case_id}: {d.determination.replace('_', ' ').upper()}",
        f"Policy {d.policy['id']} (revision {d.policy['revision']}); request: {d.request_kind.replace('_', ' ')}"
        + (f"; governing sections {', '.join(d.governing_sections)}" if d.governing_sections else ""),
        "",
    ]
    if d.criteria:
        lines.append("Criteria:")
    for c in d.criteria:
        lines.append(f"  {_MARK[c.status]}{c.id:<8} " + textwrap.shorten(c.text, width - 20, placeholder=" ..."))
        # An unknown criterion's reasons are branches that failed while another is still open.
        lines += [wrap(f"- {'not met: ' if c.status == 'unknown' else ''}{r}", " " * 18) for r in c.reasons]
        if c.id in d.missing:
            lines.append(wrap("missing: " + ", ".join(d.missing[c.id]), " " * 18))
    if d.warnings:
        lines += ["", "Warnings:"] + [wrap(f"{w['clause']}: {w['text']}", "  ") for w in d.warnings]
    if d.interpretation:
        lines += ["", "Readings applied (see `kbquery readings`):"]
        lines += [wrap(f"{r['id']} = {r['reading']} ({r['clause']})", "  ") for r in d.interpretation]
    lines += ["", f"kb {d.kb_digest}"]
    return "\n".join(lines) + "\n"
