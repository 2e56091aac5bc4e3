"""`weekly-report console --as EMAIL`: talk to the bot in a terminal, without a workspace.

What you type goes through the same Bolt app as in Slack, as real payloads:
`/weekly-report ...` is the slash command, `> question` a reply in the last report's
thread, `/home` opens the App Home, `quit` (or end of input) leaves, anything else is a
DM. The app's Web API client talks to `ConsoleSlack`, which prints what the bot posts.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import sys
import time
import uuid
from typing import Any, TextIO

from slack_bolt import App, BoltRequest

from bot.console_api import APP_ID, BOT_USER_ID, DM_CHANNEL, TEAM_ID, USER_ID, ConsoleSlack
from bot.services import Services
from bot.slack import create_app
from bot.slack.replies import COMMAND
from core import Settings
from core.errors import InputError

IDLE_TIMEOUT = 900.0  # how long one line's work may take before the prompt returns anyway
HELP = (
    f"Type `{COMMAND} help`, `{COMMAND} CUST_12345`, a DM such as `CUST_12345`, "
    "`> question` to ask in the last report's thread, `/home` for the App Home, or `quit`."
)


class ConsoleSession:
    """Turns typed lines into Slack payloads and dispatches them to `app`."""

    def __init__(self, app: App, slack: ConsoleSlack, services: Services, out: TextIO) -> None:
        self.app, self.slack, self.services, self.out = app, slack, services, out
        self._ids = itertools.count(1)

    def handle(self, line: str) -> bool:
        """Act on one line; False when the session should end."""
        text = line.strip()
        if text.lower() in ("quit", "exit", "/quit"):
            return False
        if not text:
            return True
        if text == "/home":
            self._event({"type": "app_home_opened", "user": USER_ID, "channel": DM_CHANNEL, "tab": "home"})
        elif text.split()[0] == COMMAND:
            self._command(text[len(COMMAND) :].strip())
        elif text.startswith("/"):
            self._say(f"Only {COMMAND} is a command here. {HELP}")
        elif text.startswith(">"):
            self._reply_in_thread(text[1:].strip())
        else:
            self._message(text, None)
        self.services.wait_idle(IDLE_TIMEOUT)
        return True

    def _command(self, text: str) -> None:
        payload = {
            "token": "console", "team_id": TEAM_ID, "team_domain": "console", "channel_id": DM_CHANNEL,
            "channel_name": "directmessage", "user_id": USER_ID, "user_name": self.slack.name,
            "command": COMMAND, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": self.slack.response_url(), "trigger_id": f"{next(self._ids)}.console",
        }  # fmt: skip
        response = self.app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
        if response.status != 200:
            self._say(f"(the app did not acknowledge the command: status {response.status})")
            return
        ack: dict[str, Any] = (
            json.loads(response.body) if response.body.startswith("{") else {"text": response.body}
        )
        if ack.get("text"):
            self.slack.show("(only you can see this)", ack["text"], ack.get("blocks"))

    def _reply_in_thread(self, question: str) -> None:
        if self.slack.last_report_ts is None:
            self._say(f"No report in this session yet: ask for one first, e.g. `{COMMAND} CUST_12345`.")
            return
        self._message(question, self.slack.last_report_ts)

    def _message(self, text: str, thread_ts: str | None) -> None:
        event = {
            "type": "message", "channel_type": "im", "channel": DM_CHANNEL, "user": USER_ID, "text": text,
            "ts": self.slack.next_ts(), "client_msg_id": str(uuid.uuid4()), "team": TEAM_ID,
        }  # fmt: skip
        if thread_ts:
            event["thread_ts"] = thread_ts
        self._event(event)

    def _event(self, event: dict[str, Any]) -> None:
        body = {
            "token": "console", "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": f"Ev0CONSOLE{next(self._ids):06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }  # fmt: skip
        self.app.dispatch(BoltRequest(body=body, mode="socket_mode"))

    def _say(self, text: str) -> None:
        self.out.write(f"{text}\n")
        self.out.flush()


def run_console(
    settings: Settings, email: str, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """The console loop, until `quit` or the end of input (default: standard input and output)."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    email = email.strip()
    if "@" not in email:
        raise InputError(f"--as needs an email address, e.g. sarah.johnson@example.com, not '{email[:40]}'")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    services = Services.start(settings, share=True)
    try:
        name = _name_for(services, email)
        with ConsoleSlack(email, name, out) as slack:
            local = dataclasses.replace(settings, slack_bot_token=slack.token, slack_api_url=slack.api_url)
            session = ConsoleSession(create_app(local, services), slack, services, out)
            out.write(f"weekly-report console, as {name} <{email}>.\n{HELP}\n{slack.charts_notice()}\n")
            while True:
                if stdin.isatty():
                    out.write("you> ")
                    out.flush()
                line = stdin.readline()
                if not line or not session.handle(line):
                    break
            services.wait_idle(IDLE_TIMEOUT)
    finally:
        services.close()
    return 0


def _name_for(services: Services, email: str) -> str:
    for a in services.engine.directory.assignments():
        if a.csm_email.lower() == email.lower():
            return a.csm_name
    return email.split("@")[0]
