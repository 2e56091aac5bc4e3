"""Delivery of a report as a function of (report, client), and its ledger on both backends:
the embedded warehouse, and the Snowflake connector against fakesnow's server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server
from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import REPORT_EVENT, deliver
from bot.channels.slack_dm.render import slack_parent, slack_thread
from core import (
    DeliveryStore,
    Report,
    ReportEngine,
    Settings,
    Week,
    on_demand_recipient,
    open_warehouse,
)
from core.warehouse import Warehouse
from core.warehouse.embedded import EmbeddedWarehouse
from tests.conftest import REPORT_WEEK
from tests.slack_server import SlackServer

SARAH = "U0SARAH01"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer() as server:
        server.add_user(SARAH, email="sarah.johnson@example.com", name="Sarah Johnson")
        yield server


@pytest.fixture
def client(slack: SlackServer) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def report(engine: ReportEngine) -> Report:
    week = engine.week()
    engine.generate(engine.targets("CSM001", "CUST_12345"), week)
    return engine.store.load("CUST_12345", week)


def ledger(engine: ReportEngine) -> list[dict[str, Any]]:
    return engine.warehouse.query("SELECT * FROM report_deliveries ORDER BY recipient")


def test_deliver_posts_the_parent_then_each_section_in_its_thread(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH)

    assert sent.ok and sent.channel == slack.dm_channel(SARAH) and len(sent.replies) == 4  # + suggestions
    parent, *thread = [m for m in slack.messages(sent.channel) if m.get("bot_id")]
    assert parent["ts"] == sent.ts and parent["blocks"] == slack_parent(report).blocks
    assert parent["metadata"] == {
        "event_type": REPORT_EVENT,
        "event_payload": {
            "report_id": report.report_id,
            "customer_id": "CUST_12345",
            "week_start": "2026-11-09",
            "recipient": SARAH,
        },
    }
    assert [m["blocks"] for m in thread] == [m.blocks for m in slack_thread(report)]
    assert all(m["thread_ts"] == sent.ts for m in thread)
    [row] = ledger(engine)
    assert (row["report_id"], row["recipient"], row["slack_channel_id"], row["message_ts"]) == (
        report.report_id, SARAH, sent.channel, sent.ts,
    )  # fmt: skip
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 1, None)
    assert row["delivered_at"] is not None


def test_a_delivered_report_is_not_posted_twice_to_the_same_recipient(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    store = DeliveryStore(engine.warehouse)
    first = deliver(client, store, report, SARAH)
    again = deliver(client, store, report, SARAH)
    assert (again.status, again.channel, again.ts) == ("delivered", first.channel, first.ts)
    assert len(slack.calls_to("chat.postMessage")) == 5
    # an on-demand delivery has a ledger row of its own, and its thread maps back too
    extra = deliver(client, store, report, SARAH, on_demand_recipient(SARAH))
    assert extra.ok and extra.ts != first.ts and len(ledger(engine)) == 2
    links = [store.thread(d.channel or "", d.ts or "") for d in (first, extra)]
    assert [(link.report_id, link.recipient) for link in links if link] == [
        (report.report_id, SARAH), (report.report_id, extra.recipient),
    ]  # fmt: skip


def test_a_delivery_whose_ledger_writes_were_lost_finds_its_messages_instead_of_posting_again(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    """A process killed as it posted can lose its last ledger writes with it (the attempt's
    count among them): the row then reads as claimed and never tried, though the DM holds the
    messages. The next sender looks them up rather than posting them twice."""
    store = DeliveryStore(engine.warehouse)
    first = deliver(client, store, report, SARAH)
    engine.warehouse.execute(
        "UPDATE report_deliveries SET status = 'pending', attempts = 0, slack_channel_id = NULL, "
        "message_ts = NULL, delivered_at = NULL"
    )
    again = deliver(client, store, report, SARAH)
    assert (again.status, again.ts, again.posted) == ("delivered", first.ts, 0)
    assert len(slack.calls_to("chat.postMessage")) == 5  # the parent and its 4 replies, once


def test_without_conversations_open_the_user_id_is_posted_to(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    slack.fail("conversations.open", status=200, error="missing_scope")
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH)
    assert sent.ok and sent.channel == slack.dm_channel(SARAH)
    assert slack.calls_to("chat.postMessage")[0].params["channel"] == SARAH
    assert ledger(engine)[0]["slack_channel_id"] == slack.dm_channel(SARAH)


def test_a_failed_parent_is_recorded_with_its_error(
    engine: ReportEngine, client: WebClient, slack: SlackServer, report: Report
) -> None:
    slack.fail("chat.postMessage", status=200, error="channel_not_found")
    sent = deliver(client, DeliveryStore(engine.warehouse), report, SARAH)
    assert (sent.ok, sent.status, sent.channel, sent.error) == (
        False, "failed", None, "parent message: channel_not_found",
    )  # fmt: skip
    [row] = ledger(engine)
    assert (row["status"], row["attempts"], row["last_error"], row["message_ts"]) == (
        "failed", 1, "parent message: channel_not_found", None,
    )  # fmt: skip
    slack.clear_faults()
    retried = deliver(client, DeliveryStore(engine.warehouse), report, SARAH)
    assert retried.ok and ledger(engine)[0]["attempts"] == 2 and ledger(engine)[0]["last_error"] is None


# -- the ledger on both backends ----------------------------------------------------------


@pytest.fixture(scope="module")
def fakesnow_kwargs() -> Iterator[dict[str, object]]:
    with fakesnow_server() as kwargs:
        yield kwargs


@pytest.fixture(params=["embedded", "snowflake"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    if request.param == "embedded":
        with EmbeddedWarehouse(request.getfixturevalue("empty_home")) as embedded:
            yield embedded
        return
    server: dict[str, object] = request.getfixturevalue("fakesnow_kwargs")
    # The server's session on a copy of setup.sql's schema (DuckDB files made once per run by
    # the same fakesnow translation): running setup.sql through the connector, ~1 s of CPU a
    # test, is test_sql_setup's test_setup_sql_creates_the_tables_on_a_snowflake_server.
    files = request.getfixturevalue("empty_home")
    toml = tmp_path / "connections.toml"
    toml.write_text(
        f'[fake]\naccount = "fakesnow"\nuser = "fake"\npassword = "snow"\nhost = "127.0.0.1"\n'
        f'port = {server["port"]}\nprotocol = "http"\n[fake.session_parameters]\n'
        f'CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED = false\nFAKESNOW_DB_PATH = "{files}"\n'
    )
    toml.chmod(0o600)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    snowflake = open_warehouse(
        Settings(backend="snowflake", snowflake_connection_name="fake", snowflake_connections_file=toml)
    )
    yield snowflake
    snowflake.close()


def test_one_ledger_row_per_report_and_recipient(warehouse: Warehouse) -> None:
    store = DeliveryStore(warehouse)
    for _ in range(3):
        claimed = store.claim("CUST_1-20261109", SARAH)
    assert (claimed.status, claimed.attempts, claimed.channel) == ("pending", 0, None)
    store.claim("CUST_1-20261109", "U0OTHER01")
    assert warehouse.scalar("SELECT COUNT(*) FROM report_deliveries") == 2

    store.start_attempt("CUST_1-20261109", SARAH)
    store.posted("CUST_1-20261109", SARAH, "D0SARAH01", "1763300000.000100")
    assert store.claim("CUST_1-20261109", SARAH).status == "posted"  # a claim never resets progress
    store.failed("CUST_1-20261109", SARAH, "thread reply 2 of 3: ratelimited " + "x" * 1000)
    record = store.get("CUST_1-20261109", SARAH)
    assert record is not None
    assert (record.status, record.attempts, record.channel, record.message_ts) == (
        "failed", 1, "D0SARAH01", "1763300000.000100",
    )  # fmt: skip
    assert record.last_error is not None and len(record.last_error) == 500
    store.start_attempt("CUST_1-20261109", SARAH)
    store.delivered("CUST_1-20261109", SARAH)
    record = store.get("CUST_1-20261109", SARAH)
    assert record is not None and (record.status, record.attempts, record.last_error) == (
        "delivered",
        2,
        None,
    )
    assert isinstance(record.delivered_at, dt.datetime)
    assert warehouse.scalar("SELECT COUNT(*) FROM report_deliveries") == 2


def test_a_thread_maps_back_to_its_report(warehouse: Warehouse) -> None:
    warehouse.execute(
        "INSERT INTO weekly_reports (report_id, csm_id, customer_id, report_week_start, report_week_end, "
        "generation_timestamp, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            "CUST_1-20261109",
            "CSM001",
            "CUST_1",
            REPORT_WEEK,
            REPORT_WEEK + dt.timedelta(days=6),
            dt.datetime(2026, 11, 16, 8),
            "complete",
        ],
    )
    store = DeliveryStore(warehouse)
    key = on_demand_recipient(SARAH)
    assert key.startswith(SARAH) and key != on_demand_recipient(SARAH)
    store.claim("CUST_1-20261109", key)
    store.posted("CUST_1-20261109", key, "D0SARAH01", "1763300000.000100")
    link = store.thread("D0SARAH01", "1763300000.000100")
    assert link is not None
    assert (link.report_id, link.customer_id, link.week, link.recipient) == (
        "CUST_1-20261109", "CUST_1", Week(REPORT_WEEK), key,
    )  # fmt: skip
    assert store.thread("D0SARAH01", "1763300000.000200") is None
    assert store.thread("D0OTHER01", "1763300000.000100") is None


def test_of_two_senders_with_one_claim_one_starts_and_records_its_message(warehouse: Warehouse) -> None:
    store = DeliveryStore(warehouse)
    first, second = store.claim("CUST_1-20261109", SARAH), store.claim("CUST_1-20261109", SARAH)
    # The first as the claim inserted it, the second as read back. (Not delivered_at: fakesnow's
    # server returns a NULL TIMESTAMP_NTZ as 1970-01-01 through the connector.)
    fields = ("report_id", "recipient", "channel", "message_ts", "status", "attempts", "last_error")
    assert [getattr(first, f) for f in fields] == [getattr(second, f) for f in fields]
    assert store.start_attempt("CUST_1-20261109", SARAH, first)
    assert not store.start_attempt("CUST_1-20261109", SARAH, second)  # the row moved on
    store.delivered("CUST_1-20261109", SARAH, "smtp", "<id@acme.test>")  # id and status in one write
    record = store.get("CUST_1-20261109", SARAH)
    assert record is not None and (record.status, record.attempts, record.channel, record.message_ts) == (
        "delivered", 1, "smtp", "<id@acme.test>",
    )  # fmt: skip
    assert isinstance(record.delivered_at, dt.datetime)
    assert warehouse.scalar("SELECT COUNT(*) FROM report_deliveries") == 1


class CountingWarehouse(EmbeddedWarehouse):
    """The embedded warehouse, counting the statements it sends through fakesnow."""

    translated = 0

    def _run(self, sql: str, params: Any) -> None:
        self.translated += 1
        super()._run(sql, params)


def test_the_ledger_runs_natively_on_the_embedded_warehouse(empty_home: Path) -> None:
    with CountingWarehouse(empty_home) as embedded:
        store, before = DeliveryStore(embedded), embedded.translated
        seen = store.claim("CUST_1-20261109", SARAH)
        assert store.start_attempt("CUST_1-20261109", SARAH, seen)
        store.posted("CUST_1-20261109", SARAH, "D0SARAH01", "1763300000.000100")
        store.failed("CUST_1-20261109", SARAH, "ratelimited")
        store.delivered("CUST_1-20261109", SARAH)
        assert [r.status for r in store.for_report("CUST_1-20261109")] == ["delivered"]
        assert store.thread("D0SARAH01", "1763300000.000100") is None  # no weekly_reports row
        assert embedded.translated == before  # not one statement through fakesnow
        assert embedded.scalar("SELECT status FROM report_deliveries") == "delivered"
        assert embedded.translated == before + 1  # other statements still go through it


def test_ledger_writes_in_a_transaction_belong_to_it(empty_home: Path) -> None:
    with EmbeddedWarehouse(empty_home) as embedded:
        store = DeliveryStore(embedded)
        store.claim("CUST_1-20261109", SARAH)
        with pytest.raises(RuntimeError), embedded.transaction():
            assert store.start_attempt("CUST_1-20261109", SARAH)
            assert store.get("CUST_1-20261109", SARAH).attempts == 1  # type: ignore[union-attr]
            raise RuntimeError("rolled back")
        record = store.get("CUST_1-20261109", SARAH)
        assert record is not None and (record.status, record.attempts) == ("pending", 0)
