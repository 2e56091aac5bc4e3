"""The Jinja2 environment over `templates/`: section text, prompts, Markdown and Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from core.format import FILTERS

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def new_environment(autoescape: bool | Callable[[str | None], bool] = False) -> jinja2.Environment:
    """An environment over `templates/` with the project's filters: the one below (no escaping:
    Markdown, mrkdwn, prompts), or a medium's own (e.g. email's, escaping its HTML)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=autoescape,
        # Templates ship with the code: checking their mtimes on every render costs a stat
        # per call, tens of thousands per large run.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


@cache
def environment() -> jinja2.Environment:
    """Markdown / mrkdwn / prompts: escaped where they are rendered for a medium."""
    return new_environment()


@contextmanager
def extra_templates(directory: Path) -> Iterator[None]:
    """Within the block, templates are also looked up in `directory` (after templates/): for a
    report kind that brings its own `<kind>/...` templates from outside this tree (a test's)."""
    loader = environment().loader
    assert isinstance(loader, jinja2.FileSystemLoader)
    loader.searchpath.append(str(directory))
    try:
        yield
    finally:
        loader.searchpath.remove(str(directory))
        cached = environment().cache
        if cached is not None:  # its templates are not found once it is gone
            cached.clear()


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context).strip()


@cache
def exists(name: str) -> bool:
    return (TEMPLATES_DIR / name).is_file()
