"""Pausing and resuming a CSM's Monday DMs: one row per CSM, dates checked, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Bound at import: calling it imports the submodule fakesnow.server, which replaces the name.
from fakesnow import server as fakesnow_server

from core import Preferences, ReportEngine, Warehouse, channels_for, open_warehouse, parse_until
from core.errors import InputError
from tests.conftest import AS_OF
from tests.test_sql_setup import connections_toml, snowflake_settings

LATER = AS_OF + dt.timedelta(days=13)  # 2026-12-01


@pytest.fixture
def prefs(engine: ReportEngine) -> Preferences:
    return Preferences(engine.warehouse, lambda: AS_OF)


def rows(warehouse: Warehouse, csm_id: str) -> list[dict[str, Any]]:
    return warehouse.query("SELECT * FROM csm_preferences WHERE csm_id = ?", [csm_id])


def test_pause_until_resumed(prefs: Preferences) -> None:
    pause = prefs.pause("csm001", by="U0SARAH")  # ids are case-insensitive, like everywhere
    assert (pause.csm_id, pause.until, pause.updated_by) == ("CSM001", None, "U0SARAH")
    assert pause.describe() == "paused until resumed"
    assert prefs.paused_csms(AS_OF) == {"CSM001"}
    assert prefs.paused_csms(AS_OF + dt.timedelta(days=3650)) == {"CSM001"}
    assert prefs.resume("CSM001", by="U0SARAH") is True
    assert prefs.paused_csms(AS_OF) == set()
    assert prefs.pause_of("CSM001") is None
    assert prefs.resume("CSM001") is False  # resuming twice is harmless
    assert prefs.resume("CSM004") is False
    assert rows(prefs.warehouse, "CSM004") == []  # nothing to resume: nothing written


def test_pause_until_a_date_ends_on_that_date(prefs: Preferences) -> None:
    pause = prefs.pause("CSM002", until=LATER)
    assert pause.describe() == "paused until 2026-12-01"
    assert prefs.paused_csms(LATER - dt.timedelta(days=1)) == {"CSM002"}
    assert prefs.paused_csms(LATER) == set()  # the DMs resume on that Monday
    assert prefs.pause_of("CSM002", on=LATER) is None
    assert set(prefs.pauses(AS_OF)) == {"CSM002"}


def test_one_row_per_csm_however_often_it_changes(prefs: Preferences, engine: ReportEngine) -> None:
    prefs.pause("CSM003")
    prefs.pause("CSM003", until=LATER, by="admin")
    prefs.resume("CSM003")
    prefs.pause("CSM003", until=LATER + dt.timedelta(days=7))
    [row] = rows(engine.warehouse, "CSM003")
    assert (row["paused"], row["paused_until"], row["updated_by"]) == (
        True,
        LATER + dt.timedelta(days=7),
        None,
    )
    assert prefs.paused_csms(AS_OF) == {"CSM003"}


def test_a_date_that_is_not_in_the_future_is_refused(prefs: Preferences, engine: ReportEngine) -> None:
    for day in (AS_OF, AS_OF - dt.timedelta(days=1)):
        with pytest.raises(InputError, match="is not after today"):
            prefs.pause("CSM001", until=day)
    assert rows(engine.warehouse, "CSM001") == []


def test_unknown_or_malformed_csm_is_refused(prefs: Preferences, engine: ReportEngine) -> None:
    with pytest.raises(InputError, match="unknown CSM CSM999"):
        prefs.pause("CSM999")
    with pytest.raises(InputError, match="not a CSM id"):
        prefs.pause("x'; DROP TABLE csm_preferences; --")
    assert engine.warehouse.scalar("SELECT COUNT(*) FROM csm_preferences") == 0


def test_parse_until() -> None:
    assert parse_until(" 2026-12-01 ") == dt.date(2026, 12, 1)
    with pytest.raises(InputError, match="'next week' is not a date; use YYYY-MM-DD"):
        parse_until("next week")


# --- fakesnow's server, through the connector ---------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    with fakesnow_server() as kwargs:
        yield kwargs


@pytest.fixture
def snowflake(
    server: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_home: Path
) -> Iterator[Warehouse]:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    # The server's session on a copy of setup.sql's schema (see test_bot_delivery's `warehouse`).
    toml = connections_toml(tmp_path, int(server["port"]), str(empty_home))
    with open_warehouse(snowflake_settings(toml)) as warehouse:
        warehouse.execute(
            "INSERT INTO csm_assignments (csm_id, csm_name, csm_email, customer_id) "
            "VALUES ('CSM001', 'Sarah Johnson', 'sarah.johnson@example.com', 'CUST_12345')"
        )
        yield warehouse


def test_pause_and_resume_on_snowflake(snowflake: Warehouse) -> None:
    prefs = Preferences(snowflake, lambda: AS_OF)
    prefs.pause("CSM001", until=LATER, by="U0SARAH")
    prefs.pause("CSM001", by="U0SARAH")
    assert prefs.paused_csms(LATER + dt.timedelta(days=30)) == {"CSM001"}
    assert prefs.resume("CSM001")
    assert prefs.paused_csms(AS_OF) == set()
    [row] = rows(snowflake, "CSM001")
    assert (row["paused"], row["paused_until"]) == (False, None)


def test_email_on_and_off_is_the_csms_own_choice_kept_apart_from_a_pause(
    prefs: Preferences, engine: ReportEngine
) -> None:
    assert prefs.email_choice("CSM001") is None and prefs.email_choices() == {}
    prefs.pause("CSM001", until=LATER)
    prefs.set_email("csm001", True, by="U0SARAH")
    assert prefs.email_choice("CSM001") is True
    assert prefs.pause_of("CSM001") is not None  # the pause is kept
    prefs.resume("CSM001")
    assert prefs.email_choice("CSM001") is True  # and the choice outlives the resume
    prefs.set_email("CSM002", False)
    assert prefs.email_choices() == {"CSM001": True, "CSM002": False}
    assert prefs.paused_csms(AS_OF) == set()  # a row written for email is no pause
    [row] = rows(engine.warehouse, "CSM002")
    assert (row["paused"], row["email_reports"]) == (False, False)


def test_email_for_an_unknown_csm_is_refused(prefs: Preferences, engine: ReportEngine) -> None:
    with pytest.raises(InputError, match="unknown CSM CSM999"):
        prefs.set_email("CSM999", True)
    assert engine.warehouse.scalar("SELECT COUNT(*) FROM csm_preferences") == 0


def test_channels_for_adds_or_drops_email_from_the_default() -> None:
    assert channels_for(("slack",), None) == ("slack",)
    assert channels_for(("slack",), True) == ("slack", "email")
    assert channels_for(("slack", "email"), False) == ("slack",)
    assert channels_for(("email", "slack"), True) == ("email", "slack")
    assert channels_for(("email",), False) == ()


def test_email_choice_on_snowflake(snowflake: Warehouse) -> None:
    prefs = Preferences(snowflake, lambda: AS_OF)
    prefs.set_email("CSM001", True)
    prefs.pause("CSM001", by="U0SARAH")
    prefs.set_email("CSM001", False)
    [row] = rows(snowflake, "CSM001")
    assert (row["paused"], row["email_reports"]) == (True, False)
