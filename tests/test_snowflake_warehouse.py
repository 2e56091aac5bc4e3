"""The Snowflake backend: the real connector, chosen by connection name from connections.toml,
talking to fakesnow's Snowflake-protocol server over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server

from core import Settings, open_warehouse
from core.errors import WarehouseError
from core.models import Report, SectionResult
from core.storage import ReportStore
from core.warehouse import Warehouse
from core.weeks import Week


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, object]]:
    with fakesnow_server() as kwargs:
        yield kwargs


@pytest.fixture
def snowflake(
    server: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_home: Path
) -> Iterator[Warehouse]:
    """A session of the server on a copy of setup.sql's schema (DuckDB files made once per run
    by the same fakesnow translation): running setup.sql through the connector, ~1 s of CPU a
    test, is test_sql_setup's test_setup_sql_creates_the_tables_on_a_snowflake_server."""
    home = tmp_path / "snowflake-home"
    home.mkdir()
    toml = home / "connections.toml"
    toml.write_text(
        "[fake_account]\n"
        f'account = "fakesnow"\nuser = "fake"\npassword = "snow"\nhost = "127.0.0.1"\n'
        f'port = {server["port"]}\nprotocol = "http"\n'
        "[fake_account.session_parameters]\n"
        "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED = false\n"
        f'FAKESNOW_DB_PATH = "{empty_home}"\n'
    )
    toml.chmod(0o600)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    warehouse = open_warehouse(
        Settings(
            backend="snowflake", snowflake_connection_name="fake_account", snowflake_connections_file=toml
        )
    )
    yield warehouse
    warehouse.close()


def test_bound_parameters_and_bulk_insert(snowflake: Warehouse) -> None:
    rows = [(f"CUST_{i}", f"Customer {i}", "Retail") for i in range(50)]
    assert snowflake.insert_rows("customers", ["customer_id", "customer_name", "industry"], rows) == 50
    found = snowflake.query("SELECT customer_name FROM customers WHERE customer_id = ?", ["CUST_7"])
    assert found == [{"customer_name": "Customer 7"}]
    hostile = "x' OR '1'='1"
    assert snowflake.query("SELECT customer_id FROM customers WHERE customer_id = ?", [hostile]) == []


def test_errors_are_wrapped(snowflake: Warehouse) -> None:
    with pytest.raises(WarehouseError):
        snowflake.query("SELECT no_such_column FROM customers")


def test_reports_merge_once_per_customer_and_week(snowflake: Warehouse) -> None:
    store = ReportStore(snowflake)
    week = Week(dt.date(2026, 11, 9))

    def report(thread: str, status: str) -> Report:
        section = SectionResult(
            "performance", "Performance vs Benchmarks", 1, f"text {thread}", 11, "complete"
        )
        return Report(
            "CUST_1-20261109", "CSM001", "CUST_1", "One", "Retail", week, status, [section], None,
            thread, 11, dt.datetime(2026, 11, 16), "full", {"customer_name": "One"},
        )  # fmt: skip

    assert store.save([report("t1", "partial")]) == ["CUST_1-20261109"]
    assert store.save([report("t2", "complete")]) == ["CUST_1-20261109"]  # partial is replaced
    assert store.save([report("t3", "complete")]) == []  # complete is kept
    assert store.save([report("t4", "complete")], refresh=True) == ["CUST_1-20261109"]
    loaded = store.load("CUST_1", week)
    assert (loaded.agent_thread_id, loaded.status, loaded.sections[0].content) == (
        "t4",
        "complete",
        "text t4",
    )
    assert snowflake.scalar("SELECT COUNT(*) FROM weekly_reports") == 1
    assert snowflake.scalar("SELECT COUNT(*) FROM report_sections") == 1
    assert snowflake.scalar("SELECT COUNT(*) FROM weekly_reports_stage") == 0
