"""`core` renders for no medium and imports no Slack package: checked on its source, so a
Slack import or a Slack renderer added to core fails here (bot -> core, never back)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"
FORBIDDEN = ("slack", "slack_sdk", "slack_bolt", "bot")


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(CORE.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_imports_no_slack_package_and_nothing_of_bot() -> None:
    found = [
        f"{path.relative_to(CORE.parent)}: {name}"
        for path, tree in modules()
        for name in imported(tree)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert len(list(modules())) > 50 and not found, found


def test_core_defines_no_slack_rendering() -> None:
    found = [
        f"{path.relative_to(CORE.parent)}: {node.name}"
        for path, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and ("slack" in node.name.lower() or "mrkdwn" in node.name.lower())
    ]
    assert not found, found


def test_the_check_sees_a_slack_import() -> None:
    """The walk above would catch one (it cannot pass by reading nothing)."""
    tree = ast.parse(
        "from slack_sdk import WebClient\nimport slack_bolt.app\nfrom bot.mrkdwn import mrkdwn\n"
    )
    assert [n.split(".")[0] for n in imported(tree)] == ["slack_sdk", "slack_bolt", "bot"]
