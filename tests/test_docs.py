"""The README kept in step with the code: every command, flag and setting, both ways.

Commands and flags come from the argparse parser itself, settings from the names the settings
loader reads; nothing here is a hand-written list.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser
from core import ReportEngine
from core.settings import ENV_NAMES, load_settings
from tests.readme_demo import demo_excerpt, readme_excerpt

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# `weekly-report CMD` in code, but not the slash command `/weekly-report ...` or a mention.
INVOCATION = re.compile(r"(?<![\w/@.-])(?:\.venv/bin/)?weekly-report[ \t]+([a-z][a-z0-9-]*)([^\n`]*)")


def parser_commands() -> dict[str, set[str]]:
    """Every subcommand of the CLI and its option strings (long ones; `--help` left out)."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: {
            option
            for action in sub._actions
            if not isinstance(action, argparse._HelpAction)
            for option in action.option_strings
        }
        for name, sub in subparsers.choices.items()
    }


def section(title: str) -> str:
    """The README text under `## title`, up to the next heading of the same level."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, f"README has no '## {title}' section"
    return found.group(1)


def table_first_cells(text: str) -> Iterator[str]:
    """The first cell of every body row of the Markdown tables in `text` (`\\|` is no separator)."""
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[\s|:-]+\|$", line):
            yield re.split(r"(?<!\\)\|", line)[1].strip()


def documented_commands() -> dict[str, set[str]]:
    """Commands of the README's command table with their flags; a `... --flag` row continues the
    command above it."""
    documented: dict[str, set[str]] = {}
    command = None
    for cell in table_first_cells(section("Commands")):
        if found := INVOCATION.search(cell):
            command = found.group(1)
            documented.setdefault(command, set()).update(FLAG.findall(found.group(2)))
        elif cell.startswith("`...") and command:
            documented[command].update(FLAG.findall(cell))
    return documented


def code_in_readme() -> Iterator[str]:
    """Every fenced block and inline code span of the README, each line without its `#` comment."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", README, re.S | re.M)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", README, flags=re.S | re.M))
    for block in [*fenced, *inline]:
        for line in block.splitlines():
            yield re.sub(r"\s#.*", "", line)


def test_every_command_is_in_the_readme_command_table() -> None:
    missing = set(parser_commands()) - set(documented_commands())
    assert not missing, f"commands missing from README's Commands table: {sorted(missing)}"


@pytest.mark.parametrize("command", sorted(parser_commands()))
def test_every_flag_of_a_command_is_in_its_table_row(command: str) -> None:
    missing = parser_commands()[command] - documented_commands().get(command, set())
    assert not missing, (
        f"`weekly-report {command}` flags missing from README's Commands table: {sorted(missing)}"
    )


def test_the_command_table_names_only_commands_and_flags_the_parser_has() -> None:
    real = parser_commands()
    unknown = {
        f"{command} {flag}".strip()
        for command, flags in documented_commands().items()
        for flag in ({""} if command not in real else flags - real[command])
    }
    assert not unknown, f"README's Commands table documents what the CLI lacks: {sorted(unknown)}"


def test_every_invocation_in_the_readme_is_a_real_command_and_flag() -> None:
    real = parser_commands()
    wrong = set()
    for line in code_in_readme():
        for command, rest in INVOCATION.findall(line):
            flags = set(FLAG.findall(rest))
            wrong |= {command} if command not in real else {f"{command} {f}" for f in flags - real[command]}
    assert not wrong, f"README shows invocations the CLI does not accept: {sorted(wrong)}"


class RecordingEnviron(dict[str, str]):
    """An empty environment that remembers every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def settings_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> set[str]:
    """Every environment variable the settings loader reads (asked of an empty environment, in a
    folder without `weekly-report.toml`)."""
    monkeypatch.chdir(tmp_path)
    environ = RecordingEnviron()
    load_settings(environ)
    return environ.asked | set(ENV_NAMES.values())


def documented_settings() -> set[str]:
    """The variables named in the first column of the README's Configuration table."""
    cells = table_first_cells(section("Configuration"))
    return {name for cell in cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_every_setting_is_in_the_readme_configuration_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = settings_read(monkeypatch, tmp_path) - documented_settings()
    assert not missing, f"settings missing from README's Configuration table: {sorted(missing)}"


def test_the_configuration_table_lists_only_settings_that_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unknown = documented_settings() - settings_read(monkeypatch, tmp_path)
    assert not unknown, f"README's Configuration table lists settings nothing reads: {sorted(unknown)}"


def test_the_checks_see_the_readme() -> None:
    """Guards the parsing above: an empty parse would make every check pass."""
    assert {"generate", "sql", "bot"} <= set(documented_commands())
    assert "--refresh" in documented_commands()["generate"]
    assert {"WEEKLY_REPORT_HOME", "CORTEX_USER", "SNOWFLAKE_HOME"} <= documented_settings()


def test_the_readme_demo_report_is_what_the_program_writes(engine: ReportEngine) -> None:
    """The README's demo report and parent message, regenerated on the demo data as of the same
    date: a stale copy fails here (rewrite it with `python -m tests.readme_demo`)."""
    stored = readme_excerpt(README)
    assert stored is not None, "README.md lost its demo-report block"
    assert stored == demo_excerpt(engine), "README demo report is stale: run `python -m tests.readme_demo`"
