"""The one error handler, and the dedupe of redelivered events.

Listeners turn domain errors into one line for the person themselves (`replies.tell`);
whatever escapes them lands in `handle`, which logs it and tells the person where it can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient

from bot.cache import TtlCache
from bot.slack.replies import tell

log = logging.getLogger("weekly_report.bot")


def handle(error: Exception, body: dict[str, Any], client: WebClient, respond: Respond | None = None) -> None:
    line = tell(error)
    event = body.get("event") or {}
    try:
        if body.get("response_url") and respond is not None:
            respond(text=line, response_type="ephemeral", replace_original=False)
        elif event.get("type") in ("message", "app_mention") and event.get("channel") and event.get("user"):
            thread_ts = event.get("thread_ts") or (
                event.get("ts") if event["type"] == "app_mention" else None
            )
            client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, text=line)
    except Exception:
        log.exception("could not tell the person about the error above")


def dedupe(seen: TtlCache[bool]) -> Callable[..., BoltResponse | None]:
    """Middleware: an event seen before (same event_id or client_msg_id) is acknowledged, not handled."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        if body.get("type") == "event_callback":
            event = body.get("event") or {}
            keys = [k for k in (body.get("event_id"), event.get("client_msg_id")) if k]
            fresh = [seen.add(k, True) for k in keys]
            if not all(fresh):
                log.info("ignoring event %s: already handled (a redelivery)", body.get("event_id"))
                return BoltResponse(status=200, body="")
        next()
        return None

    return middleware
