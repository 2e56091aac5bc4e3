"""Delivery of one report to one person, as a function of (report, client).

The DM gets a parent message (headline figures) and each section as a reply in its thread.
The ledger row (core.deliveries) is claimed before anything is posted and updated as the
delivery progresses, so a thread always maps back to its report and a failure is recorded
with what failed. The client retries rate limits and server errors by itself (its retry
handlers); what is left after that is recorded here and returned, not raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from core import DeliveryStore, Report, SlackMessage, slack_parent, slack_sections
from core.deliveries import DELIVERED

log = logging.getLogger("weekly_report.bot.delivery")
# Message metadata marking a report's parent message (see Slack's message metadata).
REPORT_EVENT = "weekly_report"


@dataclass(frozen=True)
class Delivery:
    """Where a report went, and how that went."""

    report_id: str
    recipient: str
    user_id: str
    channel: str | None
    ts: str | None
    status: str
    error: str | None = None
    replies: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == DELIVERED


def deliver(
    client: WebClient, deliveries: DeliveryStore, report: Report, user_id: str, recipient: str | None = None
) -> Delivery:
    """DM `report` to `user_id`, recorded under `recipient` (default: the user id).

    A (report, recipient) already delivered is not posted again; any other is posted in
    full (resuming an interrupted delivery is for the scheduled delivery to decide).
    """
    key = recipient or user_id
    record = deliveries.claim(report.report_id, key)
    if record.status == DELIVERED:
        return Delivery(report.report_id, key, user_id, record.channel, record.message_ts, DELIVERED)
    deliveries.start_attempt(report.report_id, key)
    try:
        parent = _post(client, open_dm(client, user_id), slack_parent(report), metadata=_metadata(report))
    except (SlackClientError, OSError) as exc:
        return _failed(deliveries, report, key, user_id, None, None, f"parent message: {_why(exc)}")
    channel, ts = parent["channel"], parent["ts"]
    deliveries.posted(report.report_id, key, channel, ts)
    replies: list[str] = []
    sections = slack_sections(report)
    for n, message in enumerate(sections, start=1):
        try:
            replies.append(_post(client, channel, message, thread_ts=ts)["ts"])
        except (SlackClientError, OSError) as exc:
            error = f"thread reply {n} of {len(sections)}: {_why(exc)}"
            return _failed(deliveries, report, key, user_id, channel, ts, error)
    deliveries.delivered(report.report_id, key)
    log.info("delivered %s to %s (%s, %d thread replies)", report.report_id, user_id, channel, len(replies))
    return Delivery(report.report_id, key, user_id, channel, ts, DELIVERED, replies=tuple(replies))


def open_dm(client: WebClient, user_id: str) -> str:
    """The DM channel with `user_id`; the user id itself (which also posts to the DM) if that fails."""
    try:
        return str(client.conversations_open(users=user_id)["channel"]["id"])
    except SlackApiError as exc:
        log.warning("conversations.open for %s failed (%s); posting to the user id", user_id, _why(exc))
        return user_id


def _post(
    client: WebClient,
    channel: str,
    message: SlackMessage,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    return client.chat_postMessage(
        channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts,
        metadata=metadata, unfurl_links=False, unfurl_media=False,
    )  # fmt: skip


def _metadata(report: Report) -> dict[str, Any]:
    payload = {
        "report_id": report.report_id,
        "customer_id": report.customer_id,
        "week_start": str(report.week),
    }
    return {"event_type": REPORT_EVENT, "event_payload": payload}


def _failed(
    deliveries: DeliveryStore,
    report: Report,
    key: str,
    user_id: str,
    channel: str | None,
    ts: str | None,
    error: str,
) -> Delivery:
    deliveries.failed(report.report_id, key, error)
    log.warning("delivering %s to %s failed: %s", report.report_id, user_id, error)
    return Delivery(report.report_id, key, user_id, channel, ts, "failed", error)


def _why(exc: Exception) -> str:
    """A Slack failure in a few words: the API's error code, never request details or tokens."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
