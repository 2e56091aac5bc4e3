"""The command line while `bot` or `console` holds the embedded warehouse: served by the holder
over Snowflake's protocol (fakesnow's server routes), reached through the real connector."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import WarehouseError
from core.warehouse.embedded import EmbeddedWarehouse
from core.warehouse.shared import SHARE_FILE, Endpoint
from tests.conftest import AS_OF
from tests.slack_server import SlackServer

ROOT = Path(__file__).resolve().parents[1]


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST") and key.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    env.update(
        WEEKLY_REPORT_HOME=str(home), WEEKLY_REPORT_TODAY=AS_OF.isoformat(),
        WEEKLY_REPORT_CONFIG=str(home / "none.toml"), **extra,
    )  # fmt: skip
    for name in ("WEEKLY_REPORT_BACKEND", "WEEKLY_REPORT_AGENT", "SNOWFLAKE_CONNECTION_NAME"):
        env.pop(name, None)
    return env


def cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`weekly-report ARGV` as a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=ROOT, env=environment(home), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def wait_for_share_file(home: Path, holder: subprocess.Popen[str], timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and holder.poll() is None:
        if (home / SHARE_FILE).exists():
            return json.loads((home / SHARE_FILE).read_text())
        time.sleep(0.1)
    raise AssertionError(f"no {SHARE_FILE} from pid {holder.pid} (exit status {holder.poll()})")


def stored_counts(home: Path) -> tuple[int, int]:
    """CUST_12345's stored reports and follow-ups, read from the files themselves."""
    with EmbeddedWarehouse(home) as warehouse:
        reports = warehouse.scalar("SELECT COUNT(*) FROM weekly_reports WHERE customer_id = 'CUST_12345'")
        followups = warehouse.scalar("SELECT COUNT(*) FROM followups")
        return int(reports), int(followups)


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        server.add_user("U0SARAH01", email="sarah.johnson@example.com", name="Sarah Johnson")
        yield server


def test_the_cli_reads_and_writes_while_the_bot_runs(demo_home: Path, slack: SlackServer) -> None:
    env = environment(
        demo_home,
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        # No chart renderer child (~0.7 s of CPU to start): chart images are test_slack_charts's subject.
        WEEKLY_REPORT_CHARTS="off",
    )
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "bot"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        shared = wait_for_share_file(demo_home, bot)
        assert shared["pid"] == bot.pid
        assert stat.S_IMODE((demo_home / SHARE_FILE).stat().st_mode) == 0o600

        generated = cli(
            demo_home, "generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", "CUST_12345"
        )
        assert generated.returncode == 0, generated.stderr
        shown = cli(demo_home, "show", "--customer-id", "CUST_12345", "--format", "json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "complete"
        asked = cli(demo_home, "ask", "--customer-id", "CUST_12345", "What was revenue by channel last week?")
        assert asked.returncode == 0 and "Revenue by channel" in asked.stdout, asked.stderr
        runs = cli(demo_home, "runs")
        assert runs.returncode == 0 and "manual" in runs.stdout and "completed" in runs.stdout
        rows = cli(demo_home, "sql", "SELECT COUNT(*) AS n FROM customers", "--format", "json")
        assert rows.returncode == 0 and json.loads(rows.stdout) == [{"N": 9}]

        reload = cli(demo_home, "load-demo")
        assert reload.returncode == 1 and "Traceback" not in reload.stderr
        assert f"(pid {bot.pid}) holds the embedded warehouse" in reload.stderr

        slack.wait_connected(timeout=60)
        ack = slack.wait_ack(slack.send_slash_command("/weekly-report", "help", user_id="U0SARAH01"))
        assert ack.payload is not None and "Your customers" in ack.payload["text"]
        bot.terminate()
        _, logs = bot.communicate(timeout=60)
    finally:
        bot.kill()
    assert bot.returncode == 0, logs
    assert not (demo_home / SHARE_FILE).exists()
    assert str(shared["secret"]) not in logs
    assert stored_counts(demo_home) == (1, 1)  # the CLI's report and follow-up are in the bot's files


def test_the_cli_reads_while_the_console_runs(demo_home: Path) -> None:
    console = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--as", "sarah.johnson@example.com"],
        cwd=ROOT, env=environment(demo_home), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_for_share_file(demo_home, console)["pid"] == console.pid
        rows = cli(
            demo_home, "sql", "SELECT customer_id FROM customers ORDER BY 1 LIMIT 1", "--format", "csv"
        )
        assert rows.returncode == 0 and rows.stdout.split() == ["CUSTOMER_ID", "CUST_12345"]
        _, errors = console.communicate("quit\n", timeout=60)
    finally:
        console.kill()
    assert console.returncode == 0, errors
    assert not (demo_home / SHARE_FILE).exists()


@pytest.fixture
def held(empty_home: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(empty_home) as warehouse:
        yield warehouse


def test_only_the_secret_opens_a_session(held: EmbeddedWarehouse) -> None:
    sharing = held.share()
    try:
        shared = json.loads((held.home / SHARE_FILE).read_text())
        endpoint = Endpoint(held.home, os.getpid(), sharing.port, str(shared["secret"]))
        with endpoint.connect() as warehouse:
            assert warehouse.scalar("SELECT COUNT(*) FROM customers") == 0
        with pytest.raises(WarehouseError, match="Incorrect username or password") as refused:
            Endpoint(held.home, os.getpid(), sharing.port, "not-the-secret").connect()
        assert str(shared["secret"]) not in str(refused.value)
    finally:
        sharing.stop()
    assert not (held.home / SHARE_FILE).exists()


def test_a_stale_share_file_is_not_followed(held: EmbeddedWarehouse) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    (held.home / SHARE_FILE).write_text(json.dumps({"pid": gone.pid, "port": 9, "secret": "x"}))
    result = cli(held.home, "sql", "SELECT 1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "in use by another process" in result.stderr


def test_a_command_notices_at_once_that_the_holder_stopped(held: EmbeddedWarehouse) -> None:
    sharing = held.share()
    try:
        secret = str(json.loads((held.home / SHARE_FILE).read_text())["secret"])
        borrowed = Endpoint(held.home, os.getpid(), sharing.port, secret).connect()
        assert borrowed.scalar("SELECT 1") == 1
        assert secret not in repr(Endpoint(held.home, os.getpid(), sharing.port, secret))
    finally:
        sharing.stop()
    started = time.monotonic()
    with pytest.raises(WarehouseError, match=r"\(pid \d+\) that served the embedded warehouse has stopped"):
        borrowed.scalar("SELECT 1")
    borrowed.close()
    # not the connector's retries against a closed port (up to STATEMENT_TIMEOUT, 120 s)
    assert time.monotonic() - started < 10
