"""The project's own documents: links that open, specifications in step with the code, every
command documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from kbquery import decide
from kbquery.cli import main
from kbquery.knowledge import knowledge_base

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def links(document: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.S)  # code blocks hold no links
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]  # http:, https:, mailto: are not files


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_specifications_are_in_the_repository():
    assert (ROOT / "docs" / "case-format.md").is_file() and (ROOT / "docs" / "determination.md").is_file()
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_every_relative_link_opens_a_file_in_the_repository(document):
    found = links(document)
    assert found or document.name != "README.md"  # the README links the specifications
    for link in found:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        assert path.is_relative_to(ROOT.resolve()), f"{document.name}: {link} leaves the repository"
        assert path.exists(), f"{document.name}: {link} does not exist"
        if anchor and path.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
            assert anchor in {slug(h) for h in headings}, f"{document.name}: {link}: no such heading"


COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_and_is_in_the_readme(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert f"`kbquery {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- docs/case-format.md and the case schema ----------------------------------------------------

CASE_FORMAT = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")


def schema_keys(schema: dict, path: str = "") -> set[str]:
    """Every key the schema admits, as a dotted path (list items without an index)."""
    keys = set()
    for key, sub in schema.get("properties", {}).items():
        keys.add(path + key)
        keys |= schema_keys(sub, f"{path}{key}.")
        keys |= schema_keys(sub.get("items", {}), f"{path}{key}.")
    return keys


def test_every_field_of_the_schema_is_in_the_case_format():
    for key in schema_keys(knowledge_base().schema):
        assert f"`{key.rsplit('.', 1)[-1]}`" in CASE_FORMAT, f"{key} is not in docs/case-format.md"


def test_every_field_in_the_case_formats_tables_is_in_the_schema():
    names = {k.rsplit(".", 1)[-1] for k in schema_keys(knowledge_base().schema)}
    for key in re.findall(r"^\| `([a-z_0-9]+)` \|", CASE_FORMAT, flags=re.M):
        assert key in names, f"docs/case-format.md names {key}, which the schema does not have"


def test_the_case_formats_example_is_the_example_file():
    block = re.search(r"```json\n(\{\n  \"case_id\".*?)```", CASE_FORMAT, flags=re.S).group(1)
    assert json.loads(block) == json.loads((ROOT / "examples" / "initial-diagnostic.json").read_text())


# --- docs/determination.md and the output -------------------------------------------------------

DETERMINATION = (ROOT / "docs" / "determination.md").read_text(encoding="utf-8")


def test_the_documented_keys_are_the_outputs_keys(example_case):
    section = DETERMINATION.split("## The keys", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert documented == set(decide(example_case).to_dict())


def test_the_documented_determinations_are_the_ones_the_rules_derive():
    section = DETERMINATION.split("## `determination`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    derived = {m for lp in (ROOT / "kb").rglob("*.lp")
               for m in re.findall(r"^determination\(([a-z_]+)\)", lp.read_text(encoding="utf-8"), flags=re.M)}
    assert documented == derived


def exit_statuses(help_text: str) -> set[str]:
    """The statuses a command's --help names in its "Exit status" paragraph."""
    paragraph = help_text.split("Exit status", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"\b(\d{1,3})\b", paragraph))


@pytest.mark.parametrize("command", [c for c in COMMANDS if "Exit status" in main.commands[c].help])
def test_every_exit_status_a_command_names_is_documented(command):
    statuses = exit_statuses(main.commands[command].help)
    if command == "decide":
        section = DETERMINATION.split("## Exit status", 1)[1].split("The other commands", 1)[0]
        documented = set(re.findall(r"^\| (\d+) \|", section, flags=re.M))
    else:
        row = next((line for line in DETERMINATION.splitlines() if line.startswith(f"| `kbquery {command}` |")), "")
        assert row, f"docs/determination.md has no exit status row for kbquery {command}"
        documented = set(re.findall(r"\b(\d{1,3})\b", row))
    assert statuses <= documented, f"kbquery {command}: {statuses - documented} not in docs/determination.md"
