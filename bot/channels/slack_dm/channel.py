"""The Slack DM channel: each of a CSM's reports as its own thread in their DM with the bot.

The CSM is found in Slack once per parcel (their csm_assignments.slack_user_id, else by email);
their DM is opened once; then each report goes through `deliver` (bot/channels/slack_dm/
delivery.py), one ledger row per (report, Slack user id), so a run killed midway resumes
where it stopped and a report is never DMed twice to the same person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.channels.base import Channel, Outcome, Parcel, Preview, Recipient
from bot.channels.slack_dm.delivery import Delivery, Poster, deliver, open_dm, why
from bot.charts.files import chart_files, render_ahead
from core import DeliveryStore, Report, Week

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.identity import People

NOT_FOUND = "not found in Slack by their email; set csm_assignments.slack_user_id"


class SlackDm(Channel):
    name = "slack"

    def __init__(
        self,
        client: WebClient,
        poster: Poster,
        deliveries: DeliveryStore,
        people: People,
        charts: bool = False,
    ) -> None:
        self.client, self.poster, self.deliveries, self.people = client, poster, deliveries, people
        self.charts = charts  # settings.charts: the reports' chart images in their threads

    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome:
        """The parcel's reports, in order, to the recipient's DM."""
        person, outcome = parcel.recipient, Outcome()
        try:
            user_id = self.user_of(person)
        except (SlackClientError, OSError) as exc:
            user_id, reason = None, f"looking them up in Slack failed ({why(exc)})"
        else:
            reason = NOT_FOUND
        if user_id is None:
            outcome.failed, outcome.unreachable = len(parcel.reports), True
            outcome.problems.append(
                (f"{person.person_id}: {reason}", f"{person.person_id} ({person.email}): {reason}")
            )
            return outcome
        channel: str | None = None
        ahead = iter(parcel.reports)
        self._render_ahead(next(ahead, None))
        for report in parcel.reports:
            if stopping():
                return outcome
            try:
                channel = channel or open_dm(self.poster, user_id)
            except (SlackClientError, OSError) as exc:
                channel = None
                sent = Delivery(
                    report.report_id, user_id, user_id, None, None, "failed", f"opening the DM: {why(exc)}"
                )
            else:
                sent = deliver(
                    self.client, self.deliveries, report, user_id,
                    poster=self.poster, channel=channel, charts=self.charts,
                )  # fmt: skip
            # The next report's, drawn in the seconds before its turn (its parent and first
            # section are posted first); not sooner, so that every CSM's first report's charts
            # are drawn before any CSM's second report's.
            self._render_ahead(next(ahead, None))
            _count(sent, report, person, outcome)
        return outcome

    def _render_ahead(self, report: Report | None) -> None:
        """Start drawing a report's charts, so they are ready when its turn comes (each report
        waits about a second per message for Slack's pacing anyway)."""
        if self.charts and report is not None:
            render_ahead(chart_files(report))

    def preview(self, recipient: Recipient, kind: str, week: Week, report_ids: tuple[str, ...]) -> Preview:
        try:
            user_id = self.user_of(recipient)
        except (SlackClientError, OSError) as exc:
            user_id, who = None, f"unknown ({why(exc)})"
        else:
            who = user_id or "NOT FOUND IN SLACK (set csm_assignments.slack_user_id)"
        states = {}
        for report_id in report_ids:
            record = self.deliveries.get(report_id, user_id) if user_id else None
            states[report_id] = f"DM {record.status if record else 'not sent'}"
        return Preview(who, states)

    def user_of(self, person: Recipient) -> str | None:
        """The person's Slack user id: the directory's, else Slack's for their email (None: not found)."""
        return person.addresses.get(self.name) or self.people.slack_user_by_email(
            self.client, person.email, person.person_id
        )


def _count(sent: Delivery, report: Report, person: Recipient, outcome: Outcome) -> None:
    outcome.messages += sent.posted
    where = f"{report.customer_id} to {person.person_id}"
    if sent.charts_error:
        problem = f"{where}: sent without its charts ({sent.charts_error})"
        outcome.problems.append((problem, problem))
    if sent.ok:
        outcome.delivered += 1
    elif sent.status == "busy":
        outcome.problems.append((f"{where}: being delivered by another run", None))
    else:
        outcome.failed += 1
        outcome.problems.append(
            (
                f"{where}: {sent.error}",
                f"the DM of {report.customer_name} ({report.customer_id}) to {person.person_id} "
                f"failed after retries: {sent.error}",
            )
        )
