"""The email channel: one email per recipient per week with all their reports, exactly once.

The ledger (core.deliveries) holds one row per (week, recipient, address), keyed as
`ledger_key` says. It is claimed before anything is sent and each attempt is counted before
the provider is called, so a crash leaves a trace:

- `delivered`: sent before; nothing to do. The provider's id and `delivered` are recorded
  in one write once the provider has taken the email.
- `posted`: the provider took the email (its id is recorded) but not `delivered` (written
  by earlier versions, which recorded the two apart): it is marked delivered, nothing is sent.
- `sending`: an attempt started and its outcome was never recorded. The email may or may
  not have gone out, and email cannot be looked up the way a Slack DM can, so it is not sent
  again (at most once): the row is failed with UNCERTAIN and an alert says so.
- `failed` with UNCERTAIN: the same, found by a later run; still not sent again.
- `pending`, or `failed` definitely (nothing went out): sent now.

A definite provider failure (a refused connection, a 5xx, a 4xx SMTP reply) is recorded,
then retried after a jittered backoff, up to RETRIES times; a permanent one (bad credentials,
a refused address, an HTTP 4xx) is not retried. Either way it ends in an alert line.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import ClassVar, Protocol, TextIO

from bot.channels.base import Channel, Outcome, Parcel, Preview, Recipient
from bot.channels.email.providers import Provider, make_provider
from bot.channels.email.render import address_problem, render
from core.deliveries import DELIVERED, FAILED, POSTED, SENDING, DeliveryRecord, DeliveryStore
from core.errors import EmailError
from core.settings import Settings
from core.weeks import Week

log = logging.getLogger("weekly_report.bot.channels.email")

RETRIES = 3  # retries of a definite, retryable failure (4 attempts in all)
BACKOFF_BASE = 2.0  # seconds; doubled per retry, with full jitter
UNCERTAIN = "may or may not have been sent"  # the ledger's last_error starts with this


class EmailServices(Protocol):
    """What the email channel needs of the registry's ChannelServices."""

    settings: Settings
    deliveries: DeliveryStore
    out: TextIO | None


def email_channel(services: EmailServices) -> Channel | None:
    """The email channel over the configured provider: the console when none is configured and
    email is a default channel (WEEKLY_REPORT_DELIVERY), as the README says; None (not
    available: the weekly job counts each such email failed and alerts) when it is only some
    CSM's own choice, so a run never prints their reports to the bot's log and calls it sent."""
    settings = services.settings
    implicit_console = settings.chosen_email_provider == "console" and not settings.email_provider
    if implicit_console and "email" not in (settings.delivery or ()):
        return None
    return EmailChannel(
        services.deliveries,
        make_provider(settings, services.out),
        settings.email_from,
        charts=settings.charts,
    )


def ledger_key(parcel: Parcel) -> tuple[str, str]:
    """The ledger's (report_id, recipient) for the email of `parcel`."""
    return _key(parcel.kind, parcel.week, parcel.recipient)


def _key(kind: str, week: Week, recipient: Recipient) -> tuple[str, str]:
    # week.period_id: the start, and the end too for a period other than a 7-day week.
    return f"email:{kind}:{week.period_id}:{recipient.person_id}", f"email:{recipient.email}"


class EmailChannel(Channel):
    """Delivers parcels as emails through one provider (see the module docstring)."""

    name: ClassVar[str] = "email"

    def __init__(
        self,
        deliveries: DeliveryStore,
        provider: Provider,
        sender: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = RETRIES,
        backoff: float = BACKOFF_BASE,
        charts: bool = False,
    ) -> None:
        self.deliveries, self.provider, self.sender = deliveries, provider, sender
        self.charts = charts  # settings.charts: the reports' charts as inline images
        # Printed to the console, an email is a preview like the console channel's: nothing is
        # recorded, so configuring a provider later still sends that week's email.
        self.records = provider.name != "console"
        self._sleep, self.retries, self.backoff = sleep, retries, backoff

    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome:
        if not parcel.reports or stopping():
            return Outcome()
        problem = address_problem(parcel.recipient.email)
        if problem:  # bad input: said in one line, and nothing written
            return self._failed(parcel, f"cannot address the email: {problem}", attempts=0)
        if not self.records:
            self.provider.send(render(parcel, self.sender, charts=self.charts))
            return Outcome(delivered=1, messages=1)
        key, rcpt = ledger_key(parcel)
        record = self.deliveries.claim(key, rcpt)
        if record.status == DELIVERED:
            return Outcome(delivered=1)
        if record.status == POSTED:
            self.deliveries.delivered(key, rcpt)
            return Outcome(delivered=1)
        if record.status == SENDING:
            return self._uncertain(parcel, "a previous attempt stopped before its outcome was recorded")
        if record.status == FAILED and (record.last_error or "").startswith(UNCERTAIN):
            return Outcome(failed=1, problems=[(self._line(parcel, record.last_error), None)])
        try:
            message = render(parcel, self.sender, charts=self.charts)
        except ValueError as exc:  # an address or name that cannot be written in a header
            error = f"cannot address the email: {' '.join(str(exc).split())[:200]}"
            self.deliveries.failed(key, rcpt, error)
            return self._failed(parcel, error, attempts=0)
        return self._send(parcel, message, record, stopping)

    def preview(self, recipient: Recipient, kind: str, week: Week, report_ids: tuple[str, ...]) -> Preview:
        """Where the week's email goes, and whether it went (the ledger's word; reads only)."""
        to = f"{recipient.email} ({self.provider.name})"
        if not self.records:
            return Preview(to, note="email printed here, not sent (no provider configured)")
        record = self.deliveries.get(*_key(kind, week, recipient))
        state = record.status if record else "not sent"
        if record and record.last_error:
            state += f" ({' '.join(record.last_error.split())[:120]})"
        return Preview(to, note=f"email {state}")

    def close(self) -> None:
        self.provider.close()

    def _send(
        self, parcel: Parcel, message: EmailMessage, seen: DeliveryRecord | None, stopping: Callable[[], bool]
    ) -> Outcome:
        key, rcpt = ledger_key(parcel)
        for attempt in range(1, self.retries + 2):
            # The provider's turn (an SMTP connection of its own) covers the attempt and its
            # outcome: an email waiting for a connection is not yet `sending`, and one sent is
            # recorded before its connection takes the next, so a crash leaves at most the
            # emails on the wire (one per connection) uncertain.
            with self.provider.turn():
                if not self.deliveries.start_attempt(key, rcpt, seen):
                    return Outcome(problems=[(self._line(parcel, "being delivered by another run"), None)])
                try:
                    sent_id = self._provider_send(message)
                except EmailError as exc:
                    if exc.uncertain:
                        return self._uncertain(parcel, str(exc))
                    self.deliveries.failed(key, rcpt, str(exc))
                    error = exc
                else:
                    # The provider confirmed as it took the email: its id and `delivered` in one write.
                    self.deliveries.delivered(key, rcpt, self.provider.name, sent_id[:200])
                    log.info(
                        "emailed %d report(s) to %s (%s)",
                        len(parcel.reports),
                        parcel.recipient.person_id,
                        sent_id,
                    )
                    return Outcome(delivered=1, messages=1)
            if not error.retryable or attempt > self.retries:
                return self._failed(parcel, str(error), attempts=attempt)
            pause = random.uniform(0, self.backoff * 2**attempt)
            log.info("email to %s failed (%s); retrying in %.1fs", parcel.recipient.person_id, error, pause)
            self._sleep(pause)  # outside the turn: other emails go out meanwhile
            if stopping():  # the failure is recorded: a later run retries it
                return Outcome(failed=1, problems=[(self._line(parcel, f"{error} (stopped)"), None)])
            seen = self.deliveries.get(key, rcpt)
        raise AssertionError("unreachable")

    def _provider_send(self, message: EmailMessage) -> str:
        """The provider's send; anything but an EmailError escaping it (a client library's own
        error) is a definite failure of this email, not the run's: recorded, retried, alerted."""
        try:
            return self.provider.send(message)
        except EmailError:
            raise
        except Exception as exc:
            # Its text is not shown: a client library's message could hold what the provider's
            # own errors redact. Definite and permanent: sending the same email again fails again.
            what = f"{self.provider.name}: unexpected {type(exc).__name__} while sending"
            log.error("%s", what)
            raise EmailError(what, permanent=True) from exc

    def _uncertain(self, parcel: Parcel, why: str) -> Outcome:
        key, rcpt = ledger_key(parcel)
        error = f"{UNCERTAIN}: {why}"
        self.deliveries.failed(key, rcpt, error)
        alert = (
            f"the {parcel.kind} email of the week of {parcel.week} to {_who(parcel)} {UNCERTAIN} "
            f"({why}); it will not be sent again: check with the provider or send it by hand"
        )
        log.warning("alert: %s", alert)
        return Outcome(failed=1, problems=[(self._line(parcel, error), alert)])

    def _failed(self, parcel: Parcel, error: str, attempts: int) -> Outcome:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        alert = (
            f"the {parcel.kind} email of the week of {parcel.week} to {_who(parcel)} failed{tries}: {error}"
        )
        log.warning("alert: %s", alert)
        return Outcome(failed=1, problems=[(self._line(parcel, error), alert)])

    @staticmethod
    def _line(parcel: Parcel, error: str | None) -> str:
        return f"email to {parcel.recipient.person_id}: {error}"


def _who(parcel: Parcel) -> str:
    """The recipient in an alert line: id and address, on one line."""
    r = parcel.recipient
    return f"{r.person_id} ({' '.join(r.email.split())[:100]})"
