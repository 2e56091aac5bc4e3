"""Button clicks (block_actions): acknowledged at once, the work queued by the desk.

Under an answer: its feedback buttons and "How I got this". At the end of a report's thread:
its suggested questions, each asked in that thread by whoever clicked, as if typed.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.channels.slack_dm.render import SUGGESTED_ACTION
from bot.slack.answers import FEEDBACK_ACTION, SQL_ACTION, AnswerDesk

SUGGESTED = re.compile(rf"^{SUGGESTED_ACTION}_\d+$")


def register(app: App, answers: AnswerDesk) -> None:
    @app.action(FEEDBACK_ACTION)
    def feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        answers.feedback(client, body["user"]["id"], str(action.get("value") or ""), where(body))

    @app.action(SQL_ACTION)
    def show_sql(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        answers.show_sql(client, body["user"]["id"], str(action.get("value") or ""), where(body))

    @app.action(SUGGESTED)
    def suggested_question(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        place = where(body)
        if place["channel"] and place["thread_ts"]:
            answers.follow_up(
                client, body["user"]["id"], place["channel"], place["thread_ts"],
                str(action.get("value") or ""), context.team_id, echo=True,
            )  # fmt: skip


def where(body: dict[str, Any]) -> dict[str, str | None]:
    """The channel and thread a click came from (a button in a thread reply names the thread)."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    thread_ts = message.get("thread_ts") or container.get("thread_ts") or message.get("ts")
    return {"channel": channel, "thread_ts": thread_ts}
