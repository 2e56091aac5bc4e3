"""The Slack side of weekly-report: a Bolt app over Socket Mode."""

from __future__ import annotations

from bot.slack.app import create_app, web_client
from bot.slack.listeners import COMMANDS, EVENTS

__all__ = ["COMMANDS", "EVENTS", "create_app", "web_client"]
