"""The email channel through the email_ledger: exactly once per (week, CSM), retried, crash-safe."""

from __future__ import annotations

import dataclasses
import io
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from bot.channels.base import Outcome, Recipient
from bot.channels.email import EmailChannel, email_channel, ledger_key
from bot.channels.email.channel import UNCERTAIN
from bot.channels.email.providers import Provider
from bot.channels.email.providers.smtp import SmtpProvider
from core import DeliveryStore, Settings
from core.deliveries import DELIVERED, FAILED
from tests.email_fixtures import Demo, never
from tests.email_servers import DROP, SmtpServer

SENDER = "reports@acme.test"


class Crash(BaseException):
    """The process dies here (nothing catches a BaseException on the way out)."""


class SendsThenCrashes(Provider):
    """The real SMTP provider, then a crash before the channel can record the send."""

    name = "smtp"

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> str:
        self.inner.send(message)
        raise Crash


def channel(
    server: SmtpServer, email_ledger: DeliveryStore, sleeps: list[float] | None = None
) -> EmailChannel:
    pauses = [] if sleeps is None else sleeps
    return EmailChannel(email_ledger, SmtpProvider("127.0.0.1", server.port), SENDER, sleep=pauses.append)


def deliver_all(ch: EmailChannel, email_demo: Demo) -> list[Outcome]:
    outcomes = [ch.deliver(p, never) for p in email_demo.parcels.values()]
    ch.close()
    return outcomes


def test_a_run_twice_sends_one_email_per_csm(email_demo: Demo, email_ledger: DeliveryStore) -> None:
    with SmtpServer() as server:
        first = deliver_all(channel(server, email_ledger), email_demo)
        again = deliver_all(channel(server, email_ledger), email_demo)
    assert sorted(r.recipients[0] for r in server.received) == sorted(
        p.recipient.email for p in email_demo.parcels.values()
    )
    assert [(o.delivered, o.messages, o.failed) for o in first] == [(1, 1, 0)] * len(email_demo.parcels)
    assert [(o.delivered, o.messages, o.failed) for o in again] == [(1, 0, 0)] * len(email_demo.parcels)
    rows = email_demo.rows()
    assert [(r["report_id"], r["recipient"], r["status"], r["attempts"]) for r in rows] == [
        (*ledger_key(p), DELIVERED, 1)
        for p in sorted(email_demo.parcels.values(), key=lambda p: ledger_key(p)[0])
    ]
    assert rows[0]["report_id"] == "email:ebr:20261109:CSM001" and rows[0]["recipient"] == (
        "email:sarah.johnson@example.com"
    )


def test_a_crash_between_sending_and_recording_never_sends_twice(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    parcel = email_demo.parcels["CSM001"]
    with SmtpServer() as server:
        crashing = EmailChannel(
            email_ledger, SendsThenCrashes(SmtpProvider("127.0.0.1", server.port)), SENDER
        )
        with pytest.raises(Crash):
            crashing.deliver(parcel, never)
        resumed = channel(server, email_ledger).deliver(parcel, never)
        later = channel(server, email_ledger).deliver(parcel, never)
    assert len(server.received) == 1
    assert (resumed.failed, resumed.messages) == (1, 0)
    [(line, alert)] = resumed.problems
    assert line == f"email to CSM001: {email_ledger.get(*ledger_key(parcel)).last_error}"  # type: ignore[union-attr]
    assert alert is not None and UNCERTAIN in alert and "sarah.johnson@example.com" in alert
    assert "will not be sent again" in alert
    assert (later.failed, later.messages, later.problems[0][1]) == (1, 0, None)  # alerted once
    record = email_ledger.get(*ledger_key(parcel))
    assert record is not None and record.status == FAILED and record.last_error.startswith(UNCERTAIN)  # type: ignore[union-attr]


def test_a_row_left_posted_is_resumed_as_delivered_without_sending(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    # Earlier versions recorded the provider's id (`posted`) and `delivered` in two writes; a
    # run that stopped between them left the row `posted`: the email went out.
    parcel = email_demo.parcels["CSM002"]
    key, rcpt = ledger_key(parcel)
    email_ledger.claim(key, rcpt)
    assert email_ledger.start_attempt(key, rcpt)
    email_ledger.posted(key, rcpt, "smtp", "<weekly-report.ebr.20261109.CSM002@acme.test>")
    with SmtpServer() as server:
        resumed = channel(server, email_ledger).deliver(parcel, never)
    assert server.received == []
    assert (resumed.delivered, resumed.messages, resumed.problems) == (1, 0, [])
    record = email_ledger.get(key, rcpt)
    assert record is not None and (record.status, record.attempts) == (DELIVERED, 1)
    assert record.channel == "smtp" and record.message_ts == "<weekly-report.ebr.20261109.CSM002@acme.test>"


def test_a_sent_email_records_its_provider_id_and_delivered(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    parcel = email_demo.parcels["CSM002"]
    with SmtpServer() as server:
        sent = channel(server, email_ledger).deliver(parcel, never)
    assert (sent.delivered, sent.messages, len(server.received)) == (1, 1, 1)
    record = email_ledger.get(*ledger_key(parcel))
    assert record is not None and (record.status, record.attempts, record.last_error) == (DELIVERED, 1, None)
    assert record.channel == "smtp" and record.message_ts == "<weekly-report.ebr.20261109.CSM002@acme.test>"
    assert record.delivered_at is not None


def test_a_server_error_is_recorded_then_retried_once(email_demo: Demo, email_ledger: DeliveryStore) -> None:
    sleeps: list[float] = []
    with SmtpServer() as server:
        server.handler.replies.append("451 4.3.0 try again later")
        outcome = channel(server, email_ledger, sleeps).deliver(email_demo.parcels["CSM003"], never)
    assert (outcome.delivered, outcome.messages, outcome.failed, outcome.problems) == (1, 1, 0, [])
    assert len(server.received) == 1 and len(sleeps) == 1
    record = email_ledger.get(*ledger_key(email_demo.parcels["CSM003"]))
    assert record is not None and (record.status, record.attempts) == (DELIVERED, 2)


def test_retries_spent_end_in_a_failure_and_an_alert_and_a_later_run_sends_it(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    sleeps: list[float] = []
    parcel = email_demo.parcels["CSM004"]
    with SmtpServer() as server:
        server.handler.replies.extend(["451 4.3.0 busy"] * 4)
        outcome = channel(server, email_ledger, sleeps).deliver(parcel, never)
        record = email_ledger.get(*ledger_key(parcel))
        later = channel(server, email_ledger).deliver(parcel, never)
    assert (outcome.delivered, outcome.failed, outcome.messages) == (0, 1, 0)
    assert len(sleeps) == 3 and sleeps[0] <= 4.0  # jittered backoff, doubling from BACKOFF_BASE
    [(line, alert)] = outcome.problems
    assert line.startswith("email to CSM004: SMTP 127.0.0.1:") and "451" in line
    assert alert is not None and "failed after 4 attempts" in alert
    assert record is not None and (record.status, record.attempts) == (FAILED, 4)
    assert (later.delivered, later.messages) == (1, 1) and len(server.received) == 1


def test_a_permanent_refusal_is_not_retried(email_demo: Demo, email_ledger: DeliveryStore) -> None:
    sleeps: list[float] = []
    with SmtpServer() as server:
        server.handler.replies.append("554 5.7.1 message rejected")
        outcome = channel(server, email_ledger, sleeps).deliver(email_demo.parcels["CSM004"], never)
    assert (outcome.failed, sleeps, server.received) == (1, [], [])
    assert outcome.problems[0][1] is not None and "554" in outcome.problems[0][1]


def test_a_connection_lost_while_handing_the_email_over_is_alerted_not_retried(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    sleeps: list[float] = []
    parcel = email_demo.parcels["CSM001"]
    with SmtpServer() as server:
        server.handler.replies.append(DROP)  # the server took it, but the sender cannot know
        outcome = channel(server, email_ledger, sleeps).deliver(parcel, never)
        again = channel(server, email_ledger).deliver(parcel, never)
    assert len(server.received) == 1 and sleeps == []
    assert outcome.failed == 1 and outcome.problems[0][1] is not None and UNCERTAIN in outcome.problems[0][1]
    assert (again.failed, again.messages) == (1, 0)


@pytest.mark.parametrize(
    "address",
    [
        "michael@example.com\nBcc: x@y.z",
        "",
        "michael",
        "mi chael@example.com",
        "jo@exämple.com",
        "jö@example.com",
    ],
)
def test_an_address_that_cannot_be_a_header_fails_before_anything_is_sent(
    email_demo: Demo, email_ledger: DeliveryStore, address: str
) -> None:
    parcel = email_demo.parcels["CSM002"]
    bad = dataclasses.replace(parcel, recipient=Recipient("CSM002", "Michael", address))
    with SmtpServer() as server:
        outcome = channel(server, email_ledger).deliver(bad, never)
    assert (outcome.failed, server.received) == (1, [])
    [(line, alert)] = outcome.problems
    assert line.startswith("email to CSM002: cannot address the email") and "\n" not in line
    assert alert is not None and "\n" not in alert
    assert email_demo.rows() == []  # bad input: nothing written


def test_a_stopping_run_sends_nothing(email_demo: Demo, email_ledger: DeliveryStore) -> None:
    with SmtpServer() as server:
        outcome = channel(server, email_ledger).deliver(email_demo.parcels["CSM001"], lambda: True)
    assert (outcome, server.received, email_demo.rows()) == (Outcome(), [], [])


def test_the_factory_uses_smtp_when_configured_and_the_console_otherwise(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    out = io.StringIO()
    with SmtpServer() as server:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=server.port, email_from="Reports <r@acme.test>")
        ch = email_channel(SimpleNamespace(settings=settings, deliveries=email_ledger, out=out))
        assert ch is not None and ch.name == "email"
        assert ch.deliver(email_demo.parcels["CSM001"], never).messages == 1
        ch.close()
    assert [r.sender for r in server.received] == ["r@acme.test"] and out.getvalue() == ""

    # No provider: the console, but only where email is a default channel (WEEKLY_REPORT_DELIVERY).
    only_chosen = Settings(delivery=("slack",))
    assert email_channel(SimpleNamespace(settings=only_chosen, deliveries=email_ledger, out=out)) is None
    by_default = Settings(delivery=("email",))
    console = email_channel(SimpleNamespace(settings=by_default, deliveries=email_ledger, out=out))
    assert console is not None and console.deliver(email_demo.parcels["CSM002"], never).messages == 1
    printed = out.getvalue()
    assert "To: Michael Chen <michael.chen@example.com>" in printed
    assert "From: weekly-report@localhost" in printed and "Account health:" in printed


def test_a_run_stopping_during_the_backoff_leaves_a_definite_failure_for_the_next_run(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    parcel = email_demo.parcels["CSM003"]
    stop = [False]
    with SmtpServer() as server:
        server.handler.replies.append("421 4.3.2 shutting down")
        pausing = EmailChannel(
            email_ledger,
            SmtpProvider("127.0.0.1", server.port),
            SENDER,
            sleep=lambda _: stop.__setitem__(0, True),
        )
        stopped = pausing.deliver(parcel, lambda: stop[0])
        record = email_ledger.get(*ledger_key(parcel))
        later = channel(server, email_ledger).deliver(parcel, never)
    assert (stopped.failed, stopped.messages, stopped.problems[0][1]) == (1, 0, None)
    assert stopped.problems[0][0].endswith("(stopped)")
    assert record is not None and record.status == FAILED and not record.last_error.startswith(UNCERTAIN)  # type: ignore[union-attr]
    assert (later.delivered, later.messages, len(server.received)) == (1, 1, 1)


class Breaks(Provider):
    """A provider whose client library fails in a way it does not wrap (a bug, an encoding)."""

    name = "smtp"

    def send(self, message: EmailMessage) -> str:
        raise UnicodeEncodeError("ascii", "jö", 1, 2, "ordinal not in range(128) password=hunter2")


def test_an_error_the_provider_does_not_wrap_fails_that_email_not_the_run(
    email_demo: Demo, email_ledger: DeliveryStore
) -> None:
    ch = EmailChannel(email_ledger, Breaks(), SENDER, sleep=lambda _: None)
    outcome = ch.deliver(email_demo.parcels["CSM001"], never)
    assert (outcome.failed, outcome.messages) == (1, 0)
    [(line, alert)] = outcome.problems
    assert "unexpected UnicodeEncodeError" in line and alert is not None and "hunter2" not in alert + line
    [row] = email_demo.rows()
    assert row["status"] == FAILED and UNCERTAIN not in (
        row["last_error"] or ""
    )  # definite: a later run retries


def test_the_dry_run_preview_reads_the_ledger(email_demo: Demo, email_ledger: DeliveryStore) -> None:
    parcel = email_demo.parcels["CSM002"]
    with SmtpServer() as server:
        ch = channel(server, email_ledger)
        before = ch.preview(parcel.recipient, parcel.kind, parcel.week, ())
        ch.deliver(parcel, never)
        after = ch.preview(parcel.recipient, parcel.kind, parcel.week, ())
        ch.close()
    assert (before.to, before.note) == ("michael.chen@example.com (smtp)", "email not sent")
    assert after.note == "email delivered" and len(server.received) == 1
