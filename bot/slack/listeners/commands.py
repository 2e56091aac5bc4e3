"""`/weekly-report`: checked and acknowledged at once (the ack says what happens next)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.desk import Desk
from bot.slack.replies import COMMAND, tell
from bot.slack.requests import parse

COMMANDS = (COMMAND,)


def register(app: App, desk: Desk) -> None:
    @app.command(COMMAND)
    def weekly_report(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = command["user_id"]
        try:
            plan = desk.plan(client, user_id, parse(command.get("text")))
        except Exception as exc:
            ack(text=tell(exc), response_type="ephemeral")
            return
        ack(text=plan.note, response_type="ephemeral")

        def later(text: str) -> None:
            respond(text=text, response_type="ephemeral", replace_original=False)

        desk.send(client, plan, user_id, later)
