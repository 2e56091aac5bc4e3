"""Shared fixtures: the demo dataset loaded once into an embedded warehouse, copied per test."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from core import ReportEngine, Settings, make_agent
from core.demo import load_demo
from core.warehouse.embedded import EmbeddedWarehouse
from tests.slack_server import SlackServer
from tests.templates import shared_template

AS_OF = dt.date(2026, 11, 18)  # a Wednesday: the report week is Mon 2026-11-09 .. Sun 2026-11-15
REPORT_WEEK = dt.date(2026, 11, 9)
# The demo CSMs as the local Slack server knows them: csm_id -> (Slack user id, email, customers).
CSMS = {
    "CSM001": ("U0SARAH01", "sarah.johnson@example.com", ("CUST_12345", "CUST_23456", "CUST_34567")),
    "CSM002": ("U0MICHAEL1", "michael.chen@example.com", ("CUST_45678", "CUST_56789")),
    "CSM003": ("U0EMMA001", "emma.rodriguez@example.com", ("CUST_67890", "CUST_78901")),
    "CSM004": ("U0JAMES01", "james.williams@example.com", ("CUST_89012", "CUST_90123")),
}


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder holding the 9-customer demo dataset, loaded once per run; tests only
    ever copy it."""
    return shared_template(tmp_path_factory, "demo-template", _load_demo_template)


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder with the schema and no rows, created once per run: creating one runs
    setup.sql through fakesnow (about 0.7 s of CPU), copying it about 0.01 s."""
    return shared_template(tmp_path_factory, "empty-template", lambda home: EmbeddedWarehouse(home).close())


@pytest.fixture(scope="session")
def followup_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The follow-up modules' warehouse (tests/test_followup.py's `load`), made once per run."""
    from tests.test_followup import make_followup_home

    return shared_template(tmp_path_factory, "followup-template", make_followup_home)


def _load_demo_template(home: Path) -> Path:
    with EmbeddedWarehouse(home) as warehouse:
        load_demo(warehouse, AS_OF)
    return home


@pytest.fixture
def demo_home(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo warehouse for one test."""
    home = tmp_path / "home"
    shutil.copytree(demo_template, home)
    return home


@pytest.fixture
def empty_home(empty_template: Path, tmp_path: Path) -> Path:
    """A private copy of an empty warehouse (the schema, no rows) for one test."""
    home = tmp_path / "home"
    shutil.copytree(empty_template, home)
    return home


@pytest.fixture
def settings(demo_home: Path) -> Settings:
    """Without chart images (test_slack_charts's and test_email_charts's subject): rendering
    them costs a fraction of a second per report, which every other delivery test would pay."""
    return Settings(home=demo_home, today=AS_OF, charts=False)


@pytest.fixture
def engine(settings: Settings) -> Iterator[ReportEngine]:
    warehouse = EmbeddedWarehouse(settings.home)
    yield ReportEngine(settings, warehouse, make_agent(settings, warehouse))
    warehouse.close()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, demo_home: Path) -> Path:
    """The environment the `weekly-report` command sees: the demo copy, a pinned date, no
    pause between posts to one channel (pacing is test_pacing's and test_weekly_cli's subject)
    and no chart images (the chart tests' subject: test_slack_charts, test_email_charts...)."""
    for name in (
        "WEEKLY_REPORT_BACKEND",
        "WEEKLY_REPORT_AGENT",
        "WEEKLY_REPORT_ADMINS",
        "SNOWFLAKE_CONNECTION_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEEKLY_REPORT_HOME", str(demo_home))
    monkeypatch.setenv("WEEKLY_REPORT_TODAY", AS_OF.isoformat())
    monkeypatch.setenv("WEEKLY_REPORT_POST_INTERVAL", "0")
    monkeypatch.setenv("WEEKLY_REPORT_CHARTS", "off")
    monkeypatch.setenv("WEEKLY_REPORT_CONFIG", str(demo_home / "no-such-config.toml"))
    return demo_home


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    """A local Slack that knows the demo CSMs (modules testing the bot define their own)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer() as server:
        for user_id, email, _ in CSMS.values():
            server.add_user(user_id, email=email, name=email.split("@")[0])
        yield server


@pytest.fixture
def client(slack: SlackServer) -> WebClient:
    """slack_sdk's real client on the local Slack (`slack`)."""
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


# The email tests' fixtures (email_demo: demo reports generated once per session; email_ledger).
from tests.email_fixtures import email_demo, email_ledger  # noqa: E402, F401
