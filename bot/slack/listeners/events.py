"""Events: DMs (requests and follow-ups in report threads), mentions, App Home, and the rest.

The `message` listener is also the catch-all for message events (a message event that no
listener matches is not acknowledged in Socket Mode, and Slack sends it again), and one
more listener takes every other event type.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.desk import Desk
from bot.slack.home import HomeTab
from bot.slack.requests import parse, without_mentions

log = logging.getLogger("weekly_report.bot.events")
MESSAGE, APP_MENTION, APP_HOME_OPENED = "message", "app_mention", "app_home_opened"
EVENTS = (MESSAGE, APP_MENTION, APP_HOME_OPENED)  # registered below; manifest.yml subscribes to them
# Message subtypes that are a person writing; edits, deletions, joins and bots are not.
PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")


def register(app: App, desk: Desk, home: HomeTab) -> None:
    @app.event(MESSAGE)
    def message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if not from_a_person(event, context.bot_user_id) or event.get("channel_type") != "im":
            return
        user_id, channel, text = event["user"], event["channel"], event.get("text") or ""
        thread_ts = event.get("thread_ts")
        if thread_ts and thread_ts != event.get("ts"):
            desk.follow_up(client, user_id, channel, thread_ts, text, context.team_id)
            return

        def say(reply: str) -> str | None:
            return client.chat_postMessage(channel=channel, text=reply).get("ts")

        desk.request(client, user_id, parse(text), say)

    @app.event(APP_MENTION)
    def app_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if not from_a_person(event, context.bot_user_id):
            return
        user_id, channel = event["user"], event["channel"]
        thread_ts = event.get("thread_ts") or event.get("ts")

        # Answered in the mention's thread, seen only by the person who asked (the channel may
        # hold people who must not see their customers); the report itself goes to their DMs.
        def say(reply: str) -> str | None:
            sent = client.chat_postEphemeral(channel=channel, user=user_id, text=reply, thread_ts=thread_ts)
            return sent.get("message_ts")

        desk.request(client, user_id, parse(without_mentions(event.get("text"))), say)

    @app.event(APP_HOME_OPENED)
    def app_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            home.publish(client, event["user"])

    @app.event(re.compile(".*"))
    def any_other_event(event: dict[str, Any]) -> None:
        log.debug("ignoring a %s event", event.get("type"))


def from_a_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Written by a person (not this bot or another), and not an edit or deletion."""
    user = event.get("user")
    return (
        bool(user)
        and user != bot_user_id
        and not event.get("bot_id")
        and event.get("subtype") in PERSON_SUBTYPES
    )
