"""Delivery channels: the registry, the console channel, and the weekly job handing each CSM's
parcel to every channel they have (WEEKLY_REPORT_DELIVERY, with their own email choice)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.channels import (
    CHANNELS,
    ChannelServices,
    Parcel,
    Recipient,
    open_channels,
    register,
)
from bot.channels.console import Console
from bot.channels.slack_dm import SlackDm
from bot.channels.slack_dm.render import slack_sections
from bot.channels.testing import RecordingChannel
from bot.cli import main
from bot.pacing import Pacer
from bot.weekly import WeeklyJob
from core import DeliveryStore, Preferences, ReportEngine, RunClaims, Settings, Week
from core.errors import ConfigError
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import CSMS, REPORT_WEEK
from tests.slack_server import SlackServer
from tests.test_weekly_job import assert_each_report_exactly_once, reports_in_dm

WEEK = Week(REPORT_WEEK)
MICHAEL = Recipient("CSM002", "Michael Chen", "michael.chen@example.com")


def services(settings: Settings, engine: ReportEngine, out: io.StringIO | None = None) -> ChannelServices:
    return ChannelServices(settings, DeliveryStore(engine.warehouse), out=out)


def job(engine: ReportEngine, settings: Settings, client: WebClient | None, **kw: object) -> WeeklyJob:
    return WeeklyJob(
        settings, engine, DeliveryStore(engine.warehouse), client, pacer=Pacer(interval=0.0),
        claims=RunClaims(engine.warehouse, owner="bot-a"), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def client(slack: SlackServer) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def email(monkeypatch: pytest.MonkeyPatch) -> RecordingChannel:
    """A recording channel in the registry's `email` place, for the run's routing (not email's
    own delivery, which is bot/channels/email's tests' subject)."""
    recorder = RecordingChannel()
    monkeypatch.setitem(CHANNELS, "email", lambda services: recorder)
    return recorder


# --- the registry ----------------------------------------------------------------------------


def test_each_channel_is_one_registration(settings: Settings, engine: ReportEngine) -> None:
    assert {"slack", "console"} <= set(CHANNELS)
    recorder = RecordingChannel()
    register("pigeon", lambda services: recorder)
    try:
        opened = open_channels(["pigeon", "console"], services(settings, engine))
        assert opened["pigeon"] is recorder and isinstance(opened["console"], Console)
    finally:
        CHANNELS.pop("pigeon")


def test_an_unknown_or_unconfigured_channel_is_a_clear_config_error(
    settings: Settings, engine: ReportEngine
) -> None:
    with pytest.raises(ConfigError, match=r"there is no 'pigeon' delivery channel; known: console, .*slack"):
        open_channels(["console", "pigeon"], services(settings, engine))
    with pytest.raises(ConfigError, match="delivery to Slack needs SLACK_BOT_TOKEN"):
        open_channels(["slack"], services(settings, engine))  # no client: the factory says None
    # what a person chose for themselves and cannot be opened is left out, not fatal
    opened = open_channels(["console"], services(settings, engine), optional=["slack", "pigeon"])
    assert list(opened) == ["console"]


def test_the_slack_factory_needs_a_client(
    settings: Settings, engine: ReportEngine, client: WebClient
) -> None:
    with_slack = job(engine, settings, client)
    opened = open_channels(["slack"], with_slack.services)
    assert isinstance(opened["slack"], SlackDm) and opened["slack"].poster is with_slack.poster


# --- the console -----------------------------------------------------------------------------


def test_the_console_prints_a_recipients_dms_and_records_nothing(
    settings: Settings, engine: ReportEngine
) -> None:
    engine.generate(engine.targets("CSM002"), WEEK)
    reports = tuple(engine.store.load(c, WEEK) for c in CSMS["CSM002"][2])
    out = io.StringIO()
    console = open_channels(["console"], services(settings, engine, out))["console"]
    assert console.records is False

    outcome = console.deliver(Parcel("ebr", WEEK, MICHAEL, reports), lambda: False)
    text = out.getvalue()
    assert "Monday DMs for Michael Chen <michael.chen@example.com> (CSM002)" in text
    assert text.index("(CUST_45678)") < text.index("(CUST_56789)")  # in the parcel's order
    assert text.count("↳ in thread:") == sum(len(slack_sections(r)) for r in reports)
    assert (outcome.delivered, outcome.failed, outcome.problems) == (2, 0, [])
    assert outcome.messages == sum(1 + len(slack_sections(r)) for r in reports)
    assert engine.warehouse.scalar("SELECT COUNT(*) FROM report_deliveries") == 0

    stopped = console.deliver(Parcel("ebr", WEEK, MICHAEL, reports), lambda: True)
    assert stopped.delivered == 0


def test_a_console_run_is_an_unclaimed_preview(settings: Settings, engine: ReportEngine) -> None:
    out = io.StringIO()
    summary = job(engine, dataclasses.replace(settings, delivery=("console",)), None, out=out).run(
        WEEK, ["CSM002"]
    )
    assert (summary["delivered_to"], summary["dms_sent"], summary["status"]) == ("console", 2, "completed")
    assert "Weekly report: Meridian Health Partners (CUST_45678)" in out.getvalue()
    assert RunClaims(engine.warehouse).records(WEEK, "weekly:all") == []  # again and again, like before
    assert engine.warehouse.scalar("SELECT COUNT(*) FROM report_deliveries") == 0


# --- the weekly job, per person ----------------------------------------------------------------


def test_each_csm_gets_every_channel_they_have(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer, email: RecordingChannel
) -> None:
    preferences = Preferences(engine.warehouse, settings.current_date)
    preferences.set_email("CSM001", True)  # Sarah adds email to the default (slack)
    summary = job(engine, dataclasses.replace(settings, delivery=("slack",)), client).run(WEEK)

    assert (summary["status"], summary["dms_sent"], summary["emails_sent"], summary["emails_failed"]) == (
        "completed", 9, 1, 0,
    )  # fmt: skip
    assert_each_report_exactly_once(slack, engine)  # the DMs as before
    [parcel] = email.parcels
    assert (parcel.kind, parcel.week, parcel.recipient.person_id, parcel.recipient.email) == (
        "ebr", WEEK, "CSM001", "sarah.johnson@example.com",
    )  # fmt: skip
    assert [r.customer_id for r in parcel.reports] == list(CSMS["CSM001"][2])
    assert email.closed  # the run closes what it opened


def test_email_off_drops_email_from_the_default_for_that_csm_only(
    engine: ReportEngine, settings: Settings, client: WebClient, slack: SlackServer, email: RecordingChannel
) -> None:
    Preferences(engine.warehouse, settings.current_date).set_email("CSM002", False)
    both = dataclasses.replace(settings, delivery=("slack", "email"))
    summary = job(engine, both, client).run(WEEK)
    assert (summary["dms_sent"], summary["emails_sent"]) == (9, 3)
    assert sorted(p.recipient.person_id for p in email.parcels) == ["CSM001", "CSM003", "CSM004"]
    assert set(reports_in_dm(slack, CSMS["CSM002"][0])) == set(CSMS["CSM002"][2])  # Michael's DMs still go


def test_email_chosen_where_it_cannot_be_sent_is_a_failure_and_alerted(
    engine: ReportEngine, settings: Settings, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(CHANNELS, "email", raising=False)
    Preferences(engine.warehouse, settings.current_date).set_email("CSM003", True)
    summary = job(engine, settings, client).run(WEEK)
    assert (summary["status"], summary["dms_sent"], summary["emails_failed"]) == (
        "completed_with_errors",
        9,
        1,
    )
    assert "CSM003: their email delivery is not available (not configured here)" in summary["failures"]


def test_the_dry_run_shows_each_channel(
    engine: ReportEngine, settings: Settings, client: WebClient, email: RecordingChannel
) -> None:
    Preferences(engine.warehouse, settings.current_date).set_email("CSM001", True)
    lines = job(engine, dataclasses.replace(settings, delivery=("slack",)), client).dry_run(WEEK, None)
    assert (
        "CSM001 sarah.johnson@example.com -> slack: U0SARAH01, email: sarah.johnson@example.com (recording)"
        in lines
    )
    assert "CSM002 michael.chen@example.com -> U0MICHAEL1" in lines
    assert "  CUST_12345 Northwind Outfitters: report to generate, DM not sent" in lines
    assert email.parcels == [] and engine.warehouse.scalar("SELECT COUNT(*) FROM report_runs") == 0


# --- send-weekly -------------------------------------------------------------------------------


def test_send_weekly_names_what_to_set_for_slack_delivery_without_a_token(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("WEEKLY_REPORT_DELIVERY", "slack")
    code = main(["send-weekly", "--csm-id", "CSM002"])
    err = capsys.readouterr().err
    assert code == 1 and err.strip().splitlines() == [
        "error: delivery to Slack needs SLACK_BOT_TOKEN; set it, or set WEEKLY_REPORT_DELIVERY without slack"
    ]
    with EmbeddedWarehouse(cli_env) as warehouse:
        assert warehouse.scalar("SELECT COUNT(*) FROM report_runs") == 0  # nothing written


def test_send_weekly_with_an_unknown_channel_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLY_REPORT_DELIVERY", "slack,pager")
    assert main(["send-weekly"]) == 1  # a ConfigError, as every one
    assert capsys.readouterr().err.strip() == (
        "error: WEEKLY_REPORT_DELIVERY: unknown channel 'pager'; use slack, email, console or a comma list "
        "such as slack,email"
    )
