"""Bolt listeners. Each one checks, acknowledges and queues; the work happens in `Desk`.

COMMANDS and EVENTS are what gets registered: `manifest.yml` must declare the same (see
tests/test_manifest.py).
"""

from __future__ import annotations

from slack_bolt import App

from bot.cache import TtlCache
from bot.slack.desk import Desk
from bot.slack.home import HomeTab
from bot.slack.listeners import actions, commands, errors, events

COMMANDS = commands.COMMANDS
EVENTS = events.EVENTS

__all__ = ["COMMANDS", "EVENTS", "register"]


def register(app: App, desk: Desk, home: HomeTab, seen: TtlCache[bool]) -> None:
    app.middleware(errors.dedupe(seen))
    commands.register(app, desk)
    events.register(app, desk, home)
    actions.register(app, desk.answers)
    app.error(errors.handle)
