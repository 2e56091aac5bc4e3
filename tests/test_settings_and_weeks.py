"""Settings merge once from defaults, file and environment; weeks are Monday to Sunday."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import ConfigError, InvalidWeek
from core.settings import load_settings
from core.weeks import Week, last_complete_week, parse_week


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, tmp_path / "none.toml")
    assert (s.backend, s.agent, s.schedule, s.timezone) == (
        "embedded",
        "local",
        "0 8 * * MON",
        "America/Los_Angeles",
    )
    assert (s.cortex_timeout, s.cortex_turn_timeout, s.cortex_max_retry_after) == (120.0, 120.0, 60.0)
    waits = load_settings(
        {"CORTEX_TURN_TIMEOUT": "15", "CORTEX_MAX_RETRY_AFTER": "0"}, tmp_path / "none.toml"
    )
    assert (waits.cortex_turn_timeout, waits.cortex_max_retry_after) == (15.0, 0.0)


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "weekly-report.toml"
    config.write_text('backend = "snowflake"\nconcurrency = 8\nadmins = ["boss@example.com"]\n')
    s = load_settings({"WEEKLY_REPORT_CONCURRENCY": "2"}, config)
    assert (s.backend, s.concurrency, s.admins) == ("snowflake", 2, ("boss@example.com",))
    assert s.is_admin("BOSS@example.com")


def test_the_post_interval_is_unset_by_default_and_read_from_the_environment(tmp_path: Path) -> None:
    assert load_settings({}, tmp_path / "none.toml").slack_post_interval is None
    s = load_settings({"WEEKLY_REPORT_POST_INTERVAL": "0"}, tmp_path / "none.toml")
    assert s.slack_post_interval == 0.0


def test_connector_default_connection_name_is_honoured(tmp_path: Path) -> None:
    s = load_settings({"SNOWFLAKE_DEFAULT_CONNECTION_NAME": "prod"}, tmp_path / "none.toml")
    assert s.snowflake_connection_name == "prod"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEEKLY_REPORT_BACKEND": "oracle"}, "must be 'embedded' or 'snowflake'"),
        ({"WEEKLY_REPORT_TZ": "Mars/Olympus"}, "not a known timezone"),
        ({"WEEKLY_REPORT_CONCURRENCY": "many"}, "WEEKLY_REPORT_CONCURRENCY has an invalid value"),
        ({"CORTEX_TURN_TIMEOUT": "0"}, "CORTEX_TURN_TIMEOUT must be positive"),
        ({"CORTEX_TURN_TIMEOUT": "inf"}, "CORTEX_TURN_TIMEOUT must be a number of seconds"),
        ({"CORTEX_MAX_RETRY_AFTER": "-1"}, "CORTEX_MAX_RETRY_AFTER must be a number of seconds, 0 or more"),
        ({"WEEKLY_REPORT_POST_INTERVAL": "-1"}, "WEEKLY_REPORT_POST_INTERVAL must be a number of seconds"),
        ({"WEEKLY_REPORT_POST_INTERVAL": "soon"}, "WEEKLY_REPORT_POST_INTERVAL has an invalid value"),
        ({"WEEKLY_REPORT_SLACK_TIMEOUT": "0"}, "WEEKLY_REPORT_SLACK_TIMEOUT must be a number of seconds"),
        ({"WEEKLY_REPORT_SLACK_TIMEOUT": "inf"}, "WEEKLY_REPORT_SLACK_TIMEOUT must be a number of seconds"),
    ],
)
def test_bad_settings_are_clear(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, tmp_path / "none.toml")


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    s = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-secret", "CORTEX_TOKEN": "pat-secret"}, tmp_path / "none.toml"
    )
    assert "secret" not in repr(s)


def test_last_complete_week() -> None:
    assert last_complete_week(dt.date(2026, 11, 18)) == Week(dt.date(2026, 11, 9))
    assert last_complete_week(dt.date(2026, 11, 16)) == Week(dt.date(2026, 11, 9))  # a Monday
    assert last_complete_week(dt.date(2026, 11, 15)) == Week(dt.date(2026, 11, 2))  # a Sunday


def test_parse_week() -> None:
    today = dt.date(2026, 11, 18)
    assert parse_week("2026-11-12", today) == Week(dt.date(2026, 11, 9))
    assert Week(dt.date(2026, 11, 9)).year_ago == Week(dt.date(2025, 11, 10))
    with pytest.raises(InvalidWeek, match="has not ended yet"):
        parse_week("2026-11-16", today)
    with pytest.raises(InvalidWeek, match="is not a date"):
        parse_week("soon", today)


def test_delivery_defaults_to_slack_with_a_bot_token_else_the_console(tmp_path: Path) -> None:
    none = tmp_path / "none.toml"
    assert load_settings({}, none).delivery == ("console",)
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, none).delivery == ("slack",)
    both = load_settings({"WEEKLY_REPORT_DELIVERY": " Slack , email,slack "}, none)
    assert both.delivery == ("slack", "email")  # lower-case, each once, in the order given
    config = tmp_path / "weekly-report.toml"
    config.write_text('delivery = ["email", "console"]\n')
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, config).delivery == ("email", "console")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("sms", "WEEKLY_REPORT_DELIVERY: unknown channel 'sms'; use slack, email, console or a comma list"),
        ("slack,fax", "unknown channel 'fax'"),
        (" , ", "WEEKLY_REPORT_DELIVERY names no channel"),
    ],
)
def test_an_unknown_delivery_channel_is_one_clear_line(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings({"WEEKLY_REPORT_DELIVERY": value}, tmp_path / "none.toml")
    assert "\n" not in str(raised.value)
