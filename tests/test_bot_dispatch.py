"""The Bolt app's listeners, given real slash-command and event payloads through `App.dispatch`,
with its Web API client talking HTTP to the local Slack server, on a copy of the demo warehouse."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.schedule import next_run
from bot.services import Services
from bot.slack import COMMANDS, create_app
from bot.slack.identity import People
from core import Assignment, Settings
from core.errors import ConfigError
from tests.cortex_server import CortexServer, Fault
from tests.slack_server import SlackServer

SARAH, MICHAEL, OUTSIDER, ADMIN = "U0SARAH01", "U0MICHAEL1", "U0OUTSIDE1", "U0ADMIN001"
TEAM, BOT_USER = "T00000001", "UBOT0001"
COMMAND = COMMANDS[0]
_ids = itertools.count(1)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackServer(team_id=TEAM, bot_user_id=BOT_USER, bot_id="BBOT0001") as server:
        server.add_user(SARAH, email="sarah.johnson@example.com", name="Sarah Johnson")
        server.add_user(MICHAEL, email="michael.chen@example.com", name="Michael Chen")
        server.add_user(OUTSIDER, email="someone@example.com", name="Some One")
        server.add_user(ADMIN, email="boss@example.com", name="The Boss")
        yield server


class ResponseUrls:
    """Where slash commands' response_url points: records what the app POSTs there, as Slack would show it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        record = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                record.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll (the default is 0.5 s): shutdown, at the end of every test, waits for it.
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def new(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/commands/{uuid.uuid4().hex}"

    @property
    def texts(self) -> list[str]:
        return [str(p.get("text")) for p in self.posts]


@pytest.fixture
def responses() -> Iterator[ResponseUrls]:
    urls = ResponseUrls()
    yield urls
    urls.server.shutdown()
    urls.server.server_close()


@pytest.fixture
def services(settings: Settings, slack: SlackServer) -> Iterator[Services]:
    connected = dataclasses.replace(
        settings, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, admins=("BOSS@example.com",),
        slack_post_interval=0.0,  # no pause between posts to one DM: pacing is test_pacing's subject
    )  # fmt: skip
    services = Services.start(connected)
    yield services
    services.close()


@dataclass
class Bot:
    """The app under test and what it talks to; sends it payloads as Slack would."""

    app: App
    services: Services
    slack: SlackServer
    responses: ResponseUrls

    def command(self, text: str, user_id: str = SARAH) -> str:
        """Dispatch `/weekly-report text`; the text of the ack."""
        payload = {
            "token": "verification", "team_id": TEAM, "team_domain": "example",
            "channel_id": self.slack.dm_channel(user_id), "channel_name": "directmessage", "user_id": user_id,
            "user_name": user_id.lower(), "command": COMMAND, "text": text, "api_app_id": "A0WEEKLY01",
            "is_enterprise_install": "false", "response_url": self.responses.new(),
            "trigger_id": f"{next(_ids)}.1.abc",
        }  # fmt: skip
        response = self.app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
        assert response.status == 200
        ack = json.loads(response.body)
        assert ack["response_type"] == "ephemeral"
        return str(ack["text"])

    def event(self, event: dict[str, Any]) -> BoltResponse:
        body = {
            "token": "verification", "team_id": TEAM, "api_app_id": "A0WEEKLY01", "event": event,
            "type": "event_callback", "event_id": f"Ev{next(_ids):010d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{uuid.uuid4().hex}",
        }  # fmt: skip
        return self.app.dispatch(BoltRequest(body=body, mode="socket_mode"))

    def dm(self, user_id: str, text: str, thread_ts: str | None = None) -> BoltResponse:
        ts = f"{time.time():.6f}"
        message = {
            "type": "message", "channel": self.slack.dm_channel(user_id), "channel_type": "im", "user": user_id,
            "text": text, "ts": ts, "event_ts": ts, "client_msg_id": str(uuid.uuid4()), "team": TEAM,
        }  # fmt: skip
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self.event(message)

    def settle(self, done: Callable[[], object] | None = None) -> None:
        """Wait until the app is idle (and `done` holds)."""
        assert self.services.wait_idle(60)
        if done is not None:
            self.slack.wait_for(done, timeout=10)

    def count(self, table: str) -> int:
        return int(self.services.engine.warehouse.scalar(f"SELECT COUNT(*) FROM {table}"))


@pytest.fixture
def bot(services: Services, slack: SlackServer, responses: ResponseUrls) -> Bot:
    return Bot(create_app(services.settings, services), services, slack, responses)


def posted(slack: SlackServer, user_id: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(slack.dm_channel(user_id)) if m.get("bot_id")]


def report_parents(slack: SlackServer, user_id: str) -> list[dict[str, Any]]:
    return [
        m for m in posted(slack, user_id) if (m.get("metadata") or {}).get("event_type") == "weekly_report"
    ]


def thread_replies(slack: SlackServer, user_id: str, thread_ts: str) -> list[dict[str, Any]]:
    return [m for m in posted(slack, user_id) if m.get("thread_ts") == thread_ts != m["ts"]]


def test_help_lists_usage_and_the_persons_customers(bot: Bot) -> None:
    for text in ("", "help", "  HELP "):
        reply = bot.command(text)
        assert f"`{COMMAND} CUST_12345 refresh`" in reply and f"`{COMMAND} all`" in reply
        assert "*Your customers*" in reply
        for line in ("Northwind Outfitters: `CUST_12345`", "Harbor Point Financial: `CUST_23456`"):
            assert line in reply
        assert "CUST_45678" not in reply
    assert "You are an admin" in bot.command("help", user_id=ADMIN)
    assert "not a CSM in csm_assignments" in bot.command("help", user_id=OUTSIDER)
    assert bot.count("report_runs") == 0


def test_all_sends_one_thread_per_customer(bot: Bot) -> None:
    assert "Preparing 3 weekly reports" in bot.command("all")
    bot.settle()
    parents = report_parents(bot.slack, SARAH)
    assert [p["metadata"]["event_payload"]["customer_id"] for p in parents] == [
        "CUST_12345", "CUST_23456", "CUST_34567",
    ]  # fmt: skip
    for parent in parents:
        assert len(thread_replies(bot.slack, SARAH, parent["ts"])) == 4  # 3 sections, suggested questions
    rows = bot.services.engine.warehouse.query(
        "SELECT slack_channel_id, message_ts, status FROM report_deliveries"
    )
    assert sorted((r["message_ts"], r["status"]) for r in rows) == [(p["ts"], "delivered") for p in parents]


def test_an_admin_may_ask_for_any_customer(bot: Bot) -> None:
    assert "(CUST_45678)" in bot.command("CUST_45678", user_id=ADMIN)
    bot.settle()
    [parent] = report_parents(bot.slack, ADMIN)
    assert parent["metadata"]["event_payload"]["customer_id"] == "CUST_45678"
    assert bot.services.engine.store.load("CUST_45678").csm_id == "CSM002"  # the customer's own CSM


def test_after_a_reassignment_the_engine_refuses(bot: Bot) -> None:
    bot.command("CUST_12345")
    bot.settle()
    [parent] = report_parents(bot.slack, SARAH)
    bot.services.engine.warehouse.execute(
        "UPDATE csm_assignments SET csm_id = 'CSM002', csm_name = 'Michael Chen', "
        "csm_email = 'michael.chen@example.com' WHERE customer_id = 'CUST_12345'"
    )
    bot.dm(SARAH, "What was revenue by channel?", thread_ts=parent["ts"])
    bot.settle()
    [reply] = thread_replies(bot.slack, SARAH, parent["ts"])[4:]
    assert reply["text"] == ":no_entry: Sorry, CUST_12345 is not assigned to CSM001."
    assert bot.count("followups") == 0
    # The cached roster still lists it for her, so the ack accepts; the engine refuses before any work.
    runs = bot.count("report_runs")
    assert "Regenerating" in bot.command("CUST_12345 refresh")
    bot.settle()
    assert bot.responses.texts == [":no_entry: Sorry, CUST_12345 is not assigned to CSM001."]
    assert bot.count("report_runs") == runs


def test_a_reply_in_a_thread_that_is_not_a_report(bot: Bot) -> None:
    bot.dm(SARAH, "help")
    bot.settle()
    [help_message] = posted(bot.slack, SARAH)
    bot.dm(SARAH, "and revenue?", thread_ts=help_message["ts"])
    bot.settle()
    note = posted(bot.slack, SARAH)[-1]
    assert note["thread_ts"] == help_message["ts"] and "not one of my reports" in note["text"]
    assert not bot.slack.calls_to("chat.update")


def test_mention_is_answered_in_its_thread_and_the_report_goes_to_the_dm(bot: Bot) -> None:
    mention = {
        "type": "app_mention", "user": SARAH, "text": f"<@{BOT_USER}> CUST_23456", "ts": "1763500000.000100",
        "channel": "C0GENERAL1", "event_ts": "1763500000.000100", "client_msg_id": str(uuid.uuid4()),
    }  # fmt: skip
    assert bot.event(mention).status == 200
    bot.settle()
    [note] = bot.slack.ephemerals
    assert (note["channel"], note["user"], note["thread_ts"]) == ("C0GENERAL1", SARAH, "1763500000.000100")
    assert "Harbor Point Financial (CUST_23456)" in note["text"]
    [parent] = report_parents(bot.slack, SARAH)
    assert parent["metadata"]["event_payload"]["customer_id"] == "CUST_23456"
    assert not [m for m in bot.slack.messages("C0GENERAL1") if m.get("bot_id")]  # nothing public

    again = {
        "text": f"<@{BOT_USER}> CUST_45678",
        "ts": "1763500001.000100",
        "client_msg_id": str(uuid.uuid4()),
    }
    bot.event({**mention, **again})
    bot.settle()
    assert "not assigned to CSM001" in bot.slack.ephemerals[-1]["text"]


def test_app_home_for_an_admin_and_for_someone_else(bot: Bot) -> None:
    for user_id in (ADMIN, OUTSIDER):
        bot.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": bot.slack.dm_channel(user_id),
                "tab": "home",
            }
        )
    bot.settle()
    [admin_view] = bot.slack.views_published[ADMIN]
    text = json.dumps(admin_view)
    assert len(admin_view["blocks"]) <= 100
    assert "all 9 customers" in text and "CUST_90123" in text
    fire = next_run(bot.services.settings, [])
    assert fire is not None and fire.weekday() == 0 and (fire.hour, fire.minute) == (8, 0)
    assert f"{fire:%A, %B} {fire.day} at 08:00" in text
    [outsider_view] = bot.slack.views_published[OUTSIDER]
    assert [b.get("text", {}).get("text") for b in outsider_view["blocks"]] == [
        "Weekly reports",
        "You are not a CSM in csm_assignments, so no customer reports are available to you.",
    ]
    # opening the Messages tab is no reason to publish
    bot.event(
        {"type": "app_home_opened", "user": SARAH, "channel": bot.slack.dm_channel(SARAH), "tab": "messages"}
    )
    bot.settle()
    assert SARAH not in bot.slack.views_published


def test_app_home_shows_each_reports_health_verdict_with_its_reasons(bot: Bot) -> None:
    bot.dm(SARAH, "CUST_34567")
    bot.settle()
    bot.event(
        {"type": "app_home_opened", "user": SARAH, "channel": bot.slack.dm_channel(SARAH), "tab": "home"}
    )
    bot.settle()
    [view] = bot.slack.views_published[SARAH]
    [line] = [
        b["text"]["text"] for b in view["blocks"] if "`CUST_34567`" in b.get("text", {}).get("text", "")
    ]
    headline = bot.services.engine.store.load("CUST_34567").headline
    assert headline is not None and headline.health == "At risk" and headline.health_reasons
    assert line.endswith(f":red_circle: Account health: *{headline.health_line}*")


def test_every_event_is_acknowledged_and_only_peoples_messages_are_answered(bot: Bot) -> None:
    channel = bot.slack.dm_channel(SARAH)
    ignored: list[dict[str, Any]] = [
        {"type": "reaction_added", "user": SARAH, "reaction": "eyes", "item": {"type": "message", "channel": channel, "ts": "1.0"}},
        {"type": "message", "subtype": "message_changed", "channel": channel, "channel_type": "im",
         "message": {"type": "message", "user": SARAH, "text": "CUST_12345", "ts": "1.0"}, "ts": "2.0"},
        {"type": "message", "subtype": "message_deleted", "channel": channel, "channel_type": "im", "ts": "3.0"},
        {"type": "message", "subtype": "bot_message", "bot_id": "BOTHER01", "channel": channel,
         "channel_type": "im", "text": "CUST_12345", "ts": "4.0"},
        {"type": "message", "user": BOT_USER, "bot_id": "BBOT0001", "channel": channel, "channel_type": "im",
         "text": "CUST_12345", "ts": "5.0"},
        {"type": "message", "user": SARAH, "channel": "C0GENERAL1", "channel_type": "channel",
         "text": "CUST_12345", "ts": "6.0"},
        {"type": "member_joined_channel", "user": SARAH, "channel": "C0GENERAL1"},
    ]  # fmt: skip
    for payload in ignored:
        assert bot.event(payload).status == 200, payload  # acknowledged, so Slack does not send it again
    bot.settle()
    assert not posted(bot.slack, SARAH) and not bot.slack.ephemerals
    assert not [c for c in bot.slack.calls if c.method.startswith("chat.")]
    assert bot.count("report_runs") == 0


def test_a_failed_thread_reply_is_recorded_and_the_person_told(bot: Bot) -> None:
    bot.slack.fail(
        "chat.postMessage", status=200, error="msg_too_long", when=lambda p: bool(p.get("thread_ts"))
    )
    bot.command("CUST_12345")
    bot.settle()
    [row] = bot.services.engine.warehouse.query("SELECT * FROM report_deliveries")
    [parent] = report_parents(bot.slack, SARAH)
    assert (row["status"], row["message_ts"], row["attempts"]) == ("failed", parent["ts"], 1)
    assert row["last_error"] == "thread reply 1 of 4: msg_too_long"
    assert bot.responses.texts == [
        ":warning: I could not DM you the report for CUST_12345 (thread reply 1 of 4: msg_too_long)."
    ]


def test_a_rate_limited_post_is_retried_after_retry_after(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    bot.command("CUST_12345")
    bot.settle()
    calls = bot.slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200, 200, 200, 200]
    assert calls[1].at - calls[0].at >= 1.0  # Retry-After honoured
    [row] = bot.services.engine.warehouse.query("SELECT status, attempts FROM report_deliveries")
    assert (row["status"], row["attempts"]) == ("delivered", 1)


def test_an_unexpected_failure_is_logged_and_acknowledged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot.slack.fail("chat.postMessage", status=200, error="fatal_error")
    response = bot.dm(SARAH, "help")
    bot.settle()
    assert response.status == 200
    assert "unexpected error handling a request" in caplog.text
    assert "could not tell the person about the error above" in caplog.text
    assert bot.slack.bot_token not in caplog.text


def test_a_csm_is_reached_by_slack_id_or_email_and_an_unknown_email_is_logged(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    people = People(bot.services.settings, bot.services.engine)
    client = WebClient(token=bot.slack.bot_token, base_url=bot.slack.api_url)

    def assignment(email: str, slack_user_id: str | None = None) -> Assignment:
        return Assignment(
            "CSM009", "Someone", email, slack_user_id, None, "CUST_12345", "Northwind Outfitters"
        )

    assert people.slack_user_for(client, assignment("x@example.com", "U0GIVEN01")) == "U0GIVEN01"
    assert people.slack_user_for(client, assignment("Sarah.Johnson@example.com")) == SARAH
    assert people.slack_user_for(client, assignment("sarah.johnson@example.com")) == SARAH
    assert len(bot.slack.calls_to("users.lookupByEmail")) == 1  # cached
    assert people.slack_user_for(client, assignment("gone@example.com")) is None
    assert "no Slack user for CSM009 (gone@example.com): users_not_found" in caplog.text


def test_a_bad_token_or_schedule_is_one_config_error(bot: Bot) -> None:
    settings = bot.services.settings
    with pytest.raises(ConfigError, match=r"Slack refused SLACK_BOT_TOKEN .*\(invalid_auth\)") as refused:
        create_app(dataclasses.replace(settings, slack_bot_token="xoxb-wrong"), bot.services)
    assert "xoxb-wrong" not in str(refused.value)
    with pytest.raises(
        ConfigError, match="WEEKLY_REPORT_SCHEDULE 'every monday' is not a 5-field cron expression"
    ):
        create_app(dataclasses.replace(settings, schedule="every monday"), bot.services)


def test_a_refresh_that_fails_keeps_the_delivered_report_and_says_so(
    settings: Settings, slack: SlackServer, responses: ResponseUrls
) -> None:
    """Cortex answers the first report, then refuses the token (401) when Sarah asks for a refresh."""
    from tests.cortex_server import CortexServer

    with CortexServer() as cortex:
        connected = dataclasses.replace(
            settings, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, agent="cortex",
            cortex_base_url=cortex.url, cortex_token=cortex.token,
            snowflake_connections_file=Path("/nonexistent/connections.toml"),
            slack_post_interval=0.0,  # as the `services` fixture: pacing is test_pacing's subject
        )  # fmt: skip
        services = Services.start(connected)
        try:
            bot = Bot(create_app(services.settings, services), services, slack, responses)
            bot.command("CUST_12345")
            bot.settle()
            before = services.engine.store.load("CUST_12345")
            assert before.status == "complete"
            cortex.authorize = lambda headers: None  # every call now answers 401
            bot.command("CUST_12345 refresh")
            bot.settle()
            after = services.engine.store.load("CUST_12345")
        finally:
            services.close()
    assert (after.status, after.agent_thread_id, after.generated_at) == (
        "complete", before.agent_thread_id, before.generated_at,
    )  # fmt: skip
    [note] = [t for t in responses.texts if "kept the complete report" in t]
    assert note.startswith(":information_source: CUST_12345: kept the complete report of ")
    assert "; the refresh was failed: " in note and "401" in note


@pytest.fixture
def cortex() -> Iterator[CortexServer]:
    with CortexServer() as server:
        yield server


@pytest.fixture
def cortex_bot(
    settings: Settings, slack: SlackServer, responses: ResponseUrls, cortex: CortexServer
) -> Iterator[Bot]:
    """The bot with the Cortex agent at the local Cortex server, and a 1 s turn deadline."""
    yield from cortex_bot_with(settings, slack, responses, cortex)


def cortex_bot_with(
    settings: Settings, slack: SlackServer, responses: ResponseUrls, cortex: CortexServer
) -> Iterator[Bot]:
    """`cortex_bot` on `settings` (a test's own: charts on, say), closed after."""
    connected = dataclasses.replace(
        settings, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, agent="cortex",
        cortex_base_url=cortex.url, cortex_token=cortex.token, cortex_turn_timeout=1.0,
        snowflake_connections_file=Path("/nonexistent/connections.toml"),
        slack_post_interval=0.0,  # as the `services` fixture: pacing is test_pacing's subject
    )  # fmt: skip
    services = Services.start(connected)
    yield Bot(create_app(connected, services), services, slack, responses)
    services.close()


def test_a_stuck_follow_up_frees_the_reports_lock_at_the_turn_deadline(
    cortex_bot: Bot, cortex: CortexServer
) -> None:
    bot = cortex_bot
    bot.command("CUST_12345")
    bot.settle()
    [parent] = report_parents(bot.slack, SARAH)
    stuck, next_one = "Why did conversions stall?", "And the engagement score?"
    cortex.faults.append(Fault(prompt=stuck, stream="endless", latency=0.1, lasts=15))
    started = time.monotonic()
    bot.dm(SARAH, stuck, thread_ts=parent["ts"])
    deadline = time.monotonic() + 10
    while not any(r.prompt.endswith(stuck) for r in cortex.runs()) and time.monotonic() < deadline:
        time.sleep(0.01)
    bot.dm(SARAH, next_one, thread_ts=parent["ts"])  # waits for the report's lock, held by the stuck turn
    bot.settle()
    elapsed = time.monotonic() - started
    stuck_reply, answer = thread_replies(bot.slack, SARAH, parent["ts"])[4:]
    assert elapsed < 5.0  # the stuck turn's stream would have gone on for 15 s
    assert "did not finish within CORTEX_TURN_TIMEOUT=1s; the stream was closed" in stuck_reply["text"]
    assert "revenue grew 4.2%" in answer["text"] and f"Asked: {next_one}" in answer["text"]
    hung, answered = cortex.runs()[-2:]
    assert hung.prompt.endswith(stuck) and cortex.wait_until_answered(hung) and hung.hung_up
    assert answered.prompt.endswith(next_one) and answered.body["parent_message_id"] == 1006
    assert bot.count("followups") == 1
