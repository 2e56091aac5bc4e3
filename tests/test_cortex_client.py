"""The Cortex client over real HTTP against the local Cortex server: requests, event shapes,
errors, retries, timeouts, and every way of authenticating."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core import Settings, load_settings
from core.agent.base import AskContext, ResultTable
from core.agent.cortex import CortexAgent, CortexClient, RetryPolicy, build_cortex_agent, resolve
from core.agent.cortex.auth import KeyPairJWT
from core.agent.ratelimit import RateLimiter
from core.errors import AgentRequestError, AgentUnavailable, ConfigError
from core.weeks import Week
from tests.cortex_server import (
    DEFAULT_AGENT,
    CortexServer,
    Fault,
    fakesnow_server,
    fakesnow_session_authorizer,
)
from tests.simulated_time import SimulatedTime

FAST = RetryPolicy(base=0.02, cap=0.1)
CONTEXT = AskContext("CUST_12345", "Acme Retail", "Retail", Week(dt.date(2026, 11, 9)), "performance")
PROMPT = "Analyze performance for customer CUST_12345.\n\nSection: Performance vs Benchmarks.\n"


@pytest.fixture
def server() -> Iterator[CortexServer]:
    with CortexServer() as running:
        yield running


def agent_for(server: CortexServer, retry: RetryPolicy = FAST, **overrides: Any) -> CortexAgent:
    values: dict[str, Any] = {
        "agent": "cortex", "cortex_base_url": server.url, "cortex_token": server.token,
        "snowflake_connections_file": Path("/nonexistent/connections.toml"),
    }  # fmt: skip
    values.update(overrides)
    return build_cortex_agent(Settings(**values), retry=retry)


def ask(agent: CortexAgent, thread: str, parent: int = 0, prompt: str = PROMPT) -> Any:
    return agent.ask(thread, parent, prompt, CONTEXT)


# -- the wire ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["object", "string", "int"])
def test_thread_creation_accepts_every_answer_shape(server: CortexServer, shape: str) -> None:
    server.thread_shape = shape
    assert agent_for(server).start_thread() == "10001"
    (request,) = server.thread_creates()
    assert request.body == {"origin_application": "weekly_report"}
    assert request.headers["Authorization"] == f"Bearer {server.token}"
    assert request.headers["X-Snowflake-Authorization-Token-Type"] == "PROGRAMMATIC_ACCESS_TOKEN"


def test_a_run_request_and_its_streamed_answer(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    answer = ask(agent, thread)
    (run,) = server.runs()
    assert (
        run.path
        == "/api/v2/databases/SNOWFLAKE_INTELLIGENCE/schemas/AGENTS/agents/EXECUTIVE_REVIEW_ASSISTANT:run"
    )
    assert run.body == {
        "thread_id": 10001,
        "parent_message_id": 0,
        "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
        "tool_choice": {"type": "auto"},
    }
    assert run.headers["Accept"] == "text/event-stream"
    assert run.headers["Content-Type"] == "application/json"
    assert answer.message_id == server.threads[10001].last_assistant == 1002
    assert "CUST_12345" in answer.text and "Performance vs Benchmarks" in answer.text
    assert answer.text.count("revenue grew 4.2%") == 1  # deltas, not doubled by response.text
    assert answer.sql and "CUST_12345" in answer.sql[0]
    assert answer.sources == ("Retail: win-back emails lift conversions 18%",)


def test_turns_chain_and_the_thread_can_be_read_and_deleted(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    first = ask(agent, thread)
    second = ask(agent, thread, first.message_id, "And CUST_12345's engagement?")
    assert [r.body["parent_message_id"] for r in server.runs()] == [0, first.message_id]
    assert second.message_id > first.message_id
    read = agent.client.get_thread(thread, page_size=2)
    assert [m["message_id"] for m in read["messages"]] == [second.message_id, second.message_id - 1]
    agent.client.delete_thread(thread)
    with pytest.raises(AgentRequestError, match=r"HTTP 404.*check CORTEX_BASE_URL and the thread id"):
        agent.client.get_thread(thread)


def test_a_follow_up_restates_the_scope_before_the_question(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    first = ask(agent, thread)
    follow_up = dataclasses.replace(CONTEXT, section_key=None)
    agent.ask(thread, first.message_id, "and every other customer?", follow_up)
    sent = server.runs()[-1].body["messages"][0]["content"][0]["text"]
    assert sent.startswith("[Scope: this thread is the weekly report on customer CUST_12345 (Acme Retail).")
    assert "customer_id = 'CUST_12345'" in sent and sent.endswith("\n\nQuestion: and every other customer?")
    assert server.runs()[0].prompt == PROMPT  # a section's prompt goes as it is


def test_a_wrong_parent_is_refused_with_the_servers_reason(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    first = ask(agent, thread)
    with pytest.raises(
        AgentRequestError, match=r"HTTP 400: parent_message_id 1001 is not the last assistant"
    ):
        ask(agent, thread, first.message_id - 1)  # the user message's id
    assert len(server.runs()) == 2  # a 400 is not retried


@pytest.mark.parametrize(
    ("capture", "text", "message_id"),
    [
        ("full_stream.sse", "Revenue was $48,210.55, up 4.2% week over week and above the Retail benchmark.", 1002),
        ("nested_metadata.sse", "Engagement fell 3 points.", 2004),
        ("text_without_deltas.sse", "First block.\n\nSecond block.", 3006),
        ("non_streaming_response.json", "Conversions: 312.", 5002),
    ],
)  # fmt: skip
def test_captured_streams_over_http(server: CortexServer, capture: str, text: str, message_id: int) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(replay=capture))
    answer = ask(agent, agent.start_thread())
    assert (answer.text, answer.message_id) == (text, message_id)


@pytest.mark.parametrize("mode", ["done", "nested_metadata", "no_response_metadata", "text_only"])
def test_every_stream_shape_yields_the_persisted_assistant_id(server: CortexServer, mode: str) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(stream=mode))
    first = ask(agent, thread)
    assert first.message_id == server.threads[10001].last_assistant == 1002
    assert "CUST_12345" in first.text
    assert ask(agent, thread, first.message_id).message_id == 1004  # the chain holds


@pytest.mark.parametrize("mode", ["normal", "execute_sql"])
def test_the_sql_and_result_sets_of_every_shape_reach_the_answer(server: CortexServer, mode: str) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(stream=mode))
    answer = ask(agent, agent.start_thread())
    assert answer.sql == (
        "SELECT SUM(revenue) AS revenue FROM CUSTOMER_SUCCESS_DATA.ANALYTICS.conversions "
        "WHERE customer_id = 'CUST_12345'",
    )
    assert answer.tables == (ResultTable(("REVENUE",), (("1234.50",),)),)
    assert (answer.warnings, answer.elicitation) == ((), False)


def test_a_cancelled_turn_fails_and_is_not_replayed(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(stream="cancelled", times=1))
    with pytest.raises(AgentUnavailable, match="the Cortex agent cancelled the turn"):
        ask(agent, thread)
    assert len(server.runs()) == 1
    assert ask(agent, thread).message_id == 1002  # the cancelled turn left no trace: parent 0 again


def test_a_clarifying_question_and_warnings_are_marked(
    server: CortexServer, caplog: pytest.LogCaptureFixture
) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(stream="elicitation", times=1))
    question = ask(agent, thread)
    assert question.elicitation and question.text.startswith("Which week do you mean")
    server.faults.append(Fault(stream="warning", times=1))
    with caplog.at_level(logging.WARNING):
        warned = ask(agent, thread, question.message_id)
    assert warned.warnings == ("399569: Tool `web_search` is not accessible to the current role",)
    assert caplog.text.count("is not accessible") == 1  # the event and the final list: logged once
    assert not warned.elicitation and "CUST_12345" in warned.text


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("drop", AgentUnavailable, "the event stream broke off; the answer was lost"),
        ("truncate", AgentUnavailable, "ended before its final response event"),
        ("error", AgentRequestError, "Error during execution (code 399504, request "),
    ],
)
def test_a_stream_that_fails_after_output_is_not_replayed(
    server: CortexServer, mode: str, error: type[Exception], message: str
) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(stream=mode, times=1))
    with pytest.raises(error) as caught:
        ask(agent, thread)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert len(server.runs()) == 1
    assert ask(agent, thread).message_id == 1002  # the failed turn left no trace: parent 0 again


def test_an_empty_stream_is_replayed(server: CortexServer) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(stream="empty", times=2))
    assert ask(agent, agent.start_thread()).message_id == 1002
    assert len(server.runs()) == 3


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(server: CortexServer, status: int) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(status=status, times=2))
    assert ask(agent, thread).message_id == 1002
    assert len(server.runs()) == 3


def test_retries_are_bounded(server: CortexServer, caplog: pytest.LogCaptureFixture) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(status=503))
    with caplog.at_level(logging.WARNING), pytest.raises(AgentUnavailable) as caught:
        ask(agent, thread)
    assert str(caught.value) == (
        f"running {DEFAULT_AGENT}: the Cortex agent kept failing (HTTP 503) after 5 attempts; try again later"
    )
    assert len(server.runs()) == 5
    assert caplog.text.count("HTTP 503; retry") == 4


def test_retry_after_is_honoured(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(status=503, retry_after=1, times=1))
    ask(agent, thread)
    first, second = server.runs()
    assert first.finished is not None and second.started - first.finished >= 0.9


def test_a_429_pauses_every_caller(server: CortexServer) -> None:
    agent, other = agent_for(server), agent_for(server)  # two clients, one process-wide limiter
    assert agent.client.limiter is other.client.limiter
    server.faults.append(Fault(kind="thread", status=429, retry_after=1, times=1))
    first = threading.Thread(target=agent.start_thread)
    first.start()
    deadline = time.monotonic() + 30
    while agent.client.limiter.paused_for() == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    other.start_thread()  # did not get the 429 itself, but waits out the pause
    first.join(timeout=30)
    limited, *after = server.thread_creates()
    assert limited.status == 429 and len(after) == 2
    assert limited.finished is not None and all(r.started - limited.finished >= 0.9 for r in after)


def test_a_retry_after_above_the_cap_gives_up_at_once_and_pauses_no_one(server: CortexServer) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(kind="thread", status=429, retry_after=3600, times=1))
    started = time.monotonic()
    with pytest.raises(AgentUnavailable) as caught:
        agent.start_thread()
    assert str(caught.value) == (
        "creating a thread: the Cortex agent asked to retry after 3600s (HTTP 429), more than "
        "CORTEX_MAX_RETRY_AFTER=60s; try again later"
    )
    assert len(server.thread_creates()) == 1
    assert agent.client.limiter.paused_for() == 0  # the call that gave up holds no one else
    assert agent_for(server).start_thread() == "10001"  # another caller goes at once
    assert time.monotonic() - started < 2.0


def test_the_retry_after_cap_is_a_setting(server: CortexServer) -> None:
    agent = agent_for(server, cortex_max_retry_after=0.5)
    server.faults.append(Fault(kind="thread", status=429, retry_after=1, times=1))
    with pytest.raises(
        AgentUnavailable, match=r"after 1s \(HTTP 429\), more than CORTEX_MAX_RETRY_AFTER=0.5s"
    ):
        agent.start_thread()
    assert agent.client.limiter.paused_for() == 0
    server.faults.append(Fault(kind="thread", status=429, retry_after=0.3, times=1))
    assert agent.start_thread() == "10001"  # within the cap: honoured, then retried
    limited, retried = server.thread_creates()[1:]
    assert limited.finished is not None and retried.started - limited.finished >= 0.25


def simulated_client(
    server: CortexServer, clock: SimulatedTime, retry: RetryPolicy, **overrides: Any
) -> CortexClient:
    """A client whose backoff, limiter waits and deadline run on `clock` (the HTTP is real)."""
    values: dict[str, Any] = {
        "agent": "cortex", "cortex_base_url": server.url, "cortex_token": server.token,
        "snowflake_connections_file": Path("/nonexistent/connections.toml"),
    }  # fmt: skip
    config, auth = resolve(Settings(**{**values, **overrides}))
    limiter = RateLimiter(1000, clock=clock, sleep=clock.sleep)
    return CortexClient(config, auth, limiter=limiter, retry=retry, sleep=clock.sleep, clock=clock)


def test_backoff_never_outlasts_the_turn_deadline(server: CortexServer) -> None:
    clock = SimulatedTime()
    client = simulated_client(server, clock, RetryPolicy(attempts=10, base=8, cap=16), cortex_turn_timeout=30)
    server.faults.append(Fault(kind="thread", status=503))
    with pytest.raises(AgentUnavailable) as caught:
        client.create_thread()
    assert str(caught.value) == (
        "creating a thread: the Cortex agent kept failing (HTTP 503) and the next retry would end after "
        "CORTEX_TURN_TIMEOUT=30s; try again later"
    )
    assert sum(clock.sleeps) <= 30 and len(server.thread_creates()) < 10


def test_a_retry_after_longer_than_the_time_left_gives_up_without_pausing(server: CortexServer) -> None:
    clock = SimulatedTime()
    client = simulated_client(server, clock, FAST, cortex_turn_timeout=20)
    server.faults.append(Fault(kind="thread", status=429, retry_after=30, times=1))  # within the 60 s cap
    with pytest.raises(AgentUnavailable, match=r"retry after 30s \(HTTP 429\), past CORTEX_TURN_TIMEOUT=20s"):
        client.create_thread()
    assert clock.sleeps == [] and client.limiter.paused_for() == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda limit: limit.pause(45),
            "a pause the Cortex service asked for (Retry-After) would hold this call 45s",
        ),
        (lambda limit: [limit.acquire() for _ in range(2)], "the agent rate limit (2 calls a minute)"),
    ],
)
def test_the_rate_limiters_wait_never_outlasts_the_turn_deadline(
    server: CortexServer, setup: Callable[[RateLimiter], object], message: str
) -> None:
    clock = SimulatedTime()
    client = simulated_client(server, clock, FAST, cortex_turn_timeout=10)
    client.limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    setup(client.limiter)
    with pytest.raises(AgentUnavailable) as caught:
        client.create_thread()
    assert message in str(caught.value) and "longer than the 10s left of CORTEX_TURN_TIMEOUT=10s" in str(
        caught.value
    )
    assert clock.sleeps == [] and server.thread_creates() == []


@pytest.mark.parametrize("mode", ["endless", "trickle"])
def test_a_turn_that_never_ends_is_hung_up_at_the_deadline(server: CortexServer, mode: str) -> None:
    agent = agent_for(
        server, cortex_turn_timeout=1.5
    )  # CORTEX_TIMEOUT (120 s) never trips: events keep coming
    thread = agent.start_thread()
    server.faults.append(Fault(stream=mode, latency=0.1, lasts=10, times=1))
    started = time.monotonic()
    with pytest.raises(AgentUnavailable) as caught:
        ask(agent, thread)
    elapsed = time.monotonic() - started
    assert str(caught.value) == (
        f"running {DEFAULT_AGENT}: the Cortex agent did not finish within CORTEX_TURN_TIMEOUT=1.5s; "
        "the stream was closed"
    )
    assert 1.4 <= elapsed < 2.5
    assert server.wait_for_connections(0)  # the server saw the hang-up ...
    (run,) = server.runs()
    assert run.hung_up and run.finished is not None and run.finished - run.started < 3.0  # ... and stopped
    assert ask(agent, thread).message_id == 1002  # the thread goes on: the hung-up turn left no trace


def test_thread_creation_is_bounded_by_the_turn_deadline(server: CortexServer) -> None:
    agent = agent_for(server, cortex_turn_timeout=1.0)
    server.faults.append(Fault(kind="thread", latency=5.0, times=1))
    started = time.monotonic()
    with pytest.raises(AgentUnavailable, match=r"creating a thread: .*CORTEX_TURN_TIMEOUT=1s"):
        agent.start_thread()
    assert time.monotonic() - started < 2.0


def test_an_unreachable_agent_is_retried_then_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    agent = build_cortex_agent(
        Settings(agent="cortex", cortex_base_url=f"http://127.0.0.1:{port}", cortex_token="t"), retry=FAST
    )
    with pytest.raises(AgentUnavailable, match=r"connection failed \(ConnectionError\)\) after 5 attempts"):
        agent.start_thread()


def test_a_slow_answer_times_out_without_retrying(server: CortexServer) -> None:
    agent = agent_for(server, cortex_timeout=0.3)
    thread = agent.start_thread()
    server.latency = 1.5
    with pytest.raises(AgentUnavailable, match=r"did not answer within CORTEX_TIMEOUT=0.3s"):
        ask(agent, thread)
    server.latency = 0
    server.faults.append(Fault(stream="stall", latency=1.5))  # silence in the middle of the stream
    with pytest.raises(AgentUnavailable, match=r"did not answer within CORTEX_TIMEOUT=0.3s"):
        ask(agent, thread)
    assert len(server.runs()) == 2


def test_one_connection_serves_a_whole_report(server: CortexServer) -> None:
    """Streams are read to their end, so each call reuses the pooled connection."""
    agent = agent_for(server)
    thread = agent.start_thread()
    parent = 0
    for _ in range(3):
        parent = ask(agent, thread, parent).message_id
    peers = {r.peer for r in server.requests}
    assert len(server.requests) == 4 and len(peers) == 1, peers


def test_a_stream_slow_to_end_after_its_answer_costs_only_the_drain_timeout(server: CortexServer) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(stream="linger", latency=5.0, times=1))
    started = time.monotonic()
    answer = ask(agent, thread)
    assert answer.message_id and "CUST_12345" in answer.text
    assert time.monotonic() - started < 3.0  # DRAIN_TIMEOUT (1 s), not the 5 s the server lingers
    assert ask(agent, thread, answer.message_id).message_id  # the thread goes on, on a new connection


def test_refusals_say_what_to_check(server: CortexServer) -> None:
    wrong = agent_for(server, cortex_token="pat-wrong-token-1234")
    with pytest.raises(AgentRequestError) as caught:
        wrong.start_thread()
    assert re.fullmatch(
        r"creating a thread: HTTP 401: Invalid OAuth access token or programmatic access token\. "
        r"\(request [0-9a-f-]{36}\); check CORTEX_TOKEN / CORTEX_TOKEN_TYPE",
        str(caught.value),
    )
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(Fault(status=403, times=1))
    with pytest.raises(
        AgentRequestError, match=r"HTTP 403.*GRANT USAGE ON AGENT " + re.escape(DEFAULT_AGENT)
    ):
        ask(agent, thread)
    missing = agent_for(server, cortex_agent="SALES.AGENTS.NOPE")
    with pytest.raises(AgentRequestError) as caught:
        ask(missing, thread)
    assert "HTTP 404: Agent 'SALES.AGENTS.NOPE' does not exist" in str(caught.value)
    assert str(caught.value).endswith("run SHOW AGENTS IN SCHEMA SALES.AGENTS to check CORTEX_AGENT")
    assert len(server.thread_creates()) == 2 and len(server.runs()) == 2  # none of these is retried


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises((AgentRequestError, AgentUnavailable)) as caught:
        call()
    return str(caught.value)


def test_the_token_never_shows(server: CortexServer, caplog: pytest.LogCaptureFixture) -> None:
    wrong_token = "pat-wrong-token-5678"
    with caplog.at_level(logging.DEBUG):
        errors = [error_of(agent_for(server, cortex_token=wrong_token).start_thread)]
        agent = agent_for(server)
        thread = agent.start_thread()
        for fault in (Fault(status=503), Fault(stream="error"), Fault(stream="drop"), Fault(status=403)):
            server.faults[:] = [fault]
            errors.append(error_of(lambda: ask(agent, thread)))
    assert len(errors) == 5 and caplog.text.count("HTTP 503; retry") == 4
    for text in [*errors, caplog.text, repr(agent), repr(agent.client.auth)]:
        assert wrong_token not in text and server.token not in text
    settings = load_settings(
        {"CORTEX_TOKEN": wrong_token, "CORTEX_PRIVATE_KEY_PASSPHRASE": "pw-9"}, Path("/none")
    )
    assert wrong_token not in repr(settings) and "pw-9" not in repr(settings)


def no_token_prefix(token: str, *texts: str) -> bool:
    """Whether no text holds the token or any prefix of it of 6 characters or more."""
    prefixes = [token[:n] for n in range(6, len(token) + 1)]
    return not any(prefix in text for text in texts for prefix in prefixes)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(stream="warning", message="the token {token} may not use web_search"),
        Fault(stream="warning", message="w" * 285 + "{token} may not use web_search"),
        Fault(stream="error", message="x" * 290 + "{token} was refused"),  # straddles the 300-char cut
        Fault(status=400, message="y" * 190 + "{token} is not valid here"),  # straddles the 200-char cut
    ],
    ids=["warning", "long-warning", "long-error-event", "long-error-body"],
)
def test_an_echoed_token_is_redacted_before_it_is_cut(
    server: CortexServer, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    agent = agent_for(server)
    thread = agent.start_thread()
    server.faults.append(fault)
    with caplog.at_level(logging.DEBUG):
        try:
            shown = " ".join(ask(agent, thread).warnings)
        except (AgentRequestError, AgentUnavailable) as exc:
            shown = str(exc)
    assert "***" in shown + caplog.text
    assert no_token_prefix(server.token, shown, caplog.text)


# -- authentication --------------------------------------------------------------------------


def test_oauth_token_type(server: CortexServer) -> None:
    server.token_type = "OAUTH"
    assert agent_for(server, cortex_token_type="OAUTH").start_thread() == "10001"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwt_authorizer(key: rsa.RSAPrivateKey, account: str, user: str, issued: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """Checks a key-pair JWT the way Snowflake documents it."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    def authorize(headers: Mapping[str, str]) -> str | None:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or headers.get("X-Snowflake-Authorization-Token-Type") != "KEYPAIR_JWT":
            return None
        try:
            claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
        except jwt.InvalidTokenError:
            return None
        issued.append(claims)
        ok = claims["iss"] == f"{account}.{user}.{fingerprint}" and claims["sub"] == f"{account}.{user}"
        return claims["sub"] if ok and claims["exp"] - claims["iat"] <= 3600 else None

    return authorize


def write_key(key: rsa.RSAPrivateKey, path: Path, passphrase: bytes | None) -> Path:
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def test_key_pair_jwt_from_settings(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    issued: list[dict[str, Any]] = []
    with CortexServer(authorize=jwt_authorizer(rsa_key, "XY12345", "REPORT_BOT", issued)) as server:
        agent = agent_for(
            server, cortex_token=None, cortex_token_type="KEYPAIR_JWT", cortex_account="xy12345.us-east-1",
            cortex_user="report_bot", cortex_private_key_file=write_key(rsa_key, tmp_path / "k.p8", b"pw"),
            cortex_private_key_passphrase="pw",
        )  # fmt: skip
        thread = agent.start_thread()
        assert ask(agent, thread).message_id == 1002
    assert len(issued) == 2 and issued[0]["sub"] == "XY12345.REPORT_BOT"


def test_key_pair_jwt_from_the_snowflake_connection(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    key = write_key(rsa_key, tmp_path / "rsa_key.p8", None)
    issued: list[dict[str, Any]] = []
    with CortexServer(authorize=jwt_authorizer(rsa_key, "MYORG-PROD", "BOT", issued)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        toml = tmp_path / "connections.toml"
        toml.write_text(
            f'[prod]\naccount = "myorg-prod"\nuser = "bot"\nprivate_key_file = "{key}"\n'
            f'host = "{host}"\nport = {port}\nprotocol = "http"\n'
        )
        settings = load_settings(
            {"WEEKLY_REPORT_AGENT": "cortex", "CORTEX_TOKEN_TYPE": "keypair_jwt",
             "SNOWFLAKE_CONNECTION_NAME": "prod", "SNOWFLAKE_CONNECTIONS_FILE": str(toml)},
            tmp_path / "none.toml",
        )  # fmt: skip
        agent = build_cortex_agent(settings)
        assert agent.client.config.base_url == server.url  # from the connection's host
        assert agent.start_thread() == "10001"


def test_jwts_are_renewed_before_they_expire(rsa_key: rsa.RSAPrivateKey) -> None:
    now = [1_800_000_000.0]
    auth = KeyPairJWT("acct", "me", rsa_key, clock=lambda: now[0])
    first = auth.token()
    now[0] += 50 * 60
    assert auth.token() == first
    now[0] += 5 * 60  # 55 minutes in: less than five left
    renewed = auth.token()
    assert renewed != first
    claims = jwt.decode(
        renewed,
        rsa_key.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iat"] == int(now[0]) and claims["exp"] - claims["iat"] <= 3600
    assert set(auth.secrets()) == {first, renewed}


def test_a_ready_made_jwt_in_cortex_token(server: CortexServer) -> None:
    server.token, server.token_type = "eyJ.ready.made", "KEYPAIR_JWT"
    assert agent_for(server, cortex_token="eyJ.ready.made", cortex_token_type="KEYPAIR_JWT").start_thread()


@pytest.fixture(scope="module")
def snowflake_port() -> Iterator[int]:
    with fakesnow_server() as port:
        yield port


def session_connection(port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    toml = tmp_path / "connections.toml"
    toml.write_text(
        "[fake]\n"
        f'account = "fakesnow"\nuser = "fake"\npassword = "snow"\nhost = "127.0.0.1"\n'
        f'port = {port}\nprotocol = "http"\n'
        "[fake.session_parameters]\nCLIENT_OUT_OF_BAND_TELEMETRY_ENABLED = false\n"
        'FAKESNOW_DB_PATH = ":isolated:"\n'
    )
    toml.chmod(0o600)
    return toml


def test_the_connectors_session_token(
    snowflake_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = session_connection(snowflake_port, tmp_path, monkeypatch)
    revoked: set[str] = set()
    with CortexServer(authorize=fakesnow_session_authorizer(revoked)) as server:
        agent = agent_for(
            server, cortex_token=None, cortex_token_type="SNOWFLAKE_SESSION",
            snowflake_connection_name="fake", snowflake_connections_file=toml,
        )  # fmt: skip
        thread = agent.start_thread()
        first = ask(agent, thread)
        revoked.add(server.runs()[0].headers["Authorization"].split('"')[1])  # the session expires
        second = ask(agent, thread, first.message_id)  # 401, a new session, the same user
        assert second.message_id == first.message_id + 2
        # The server records a status once its handler returns, which may be after the
        # client has read the answer.
        assert all(server.wait_until_answered(r) for r in server.runs())
        statuses = [r.status for r in server.runs()]
        assert statuses == [200, 401, 200]
        tokens = {r.headers["Authorization"] for r in server.requests}
        assert len(tokens) == 2
        agent.close()


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CORTEX_BASE_URL": "https://x.snowflakecomputing.com"}, "CORTEX_TOKEN is not set"),
        ({"CORTEX_TOKEN": "t"}, "set CORTEX_BASE_URL"),
        ({"CORTEX_TOKEN": "t", "CORTEX_BASE_URL": "x.snowflakecomputing.com"}, "must start with https://"),
        ({"CORTEX_TOKEN_TYPE": "KEYPAIR_JWT", "CORTEX_BASE_URL": "https://x"},
         "KEYPAIR_JWT needs CORTEX_ACCOUNT, CORTEX_USER, CORTEX_PRIVATE_KEY_FILE"),
        ({"CORTEX_TOKEN_TYPE": "KEYPAIR_JWT", "CORTEX_BASE_URL": "https://x", "CORTEX_ACCOUNT": "a",
          "CORTEX_USER": "u", "CORTEX_PRIVATE_KEY_FILE": "/no/such/key.p8"}, "check CORTEX_PRIVATE_KEY_FILE"),
        ({"CORTEX_TOKEN_TYPE": "PASSWORD"}, "CORTEX_TOKEN_TYPE must be one of"),
        ({"CORTEX_AGENT": 'DB."odd name".AGENT'}, "must be DATABASE.SCHEMA.AGENT of plain identifiers"),
        ({"CORTEX_AGENT": "ONLY.TWO"}, "must be DATABASE.SCHEMA.AGENT"),
    ],
)  # fmt: skip
def test_configuration_errors_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    environ = {"WEEKLY_REPORT_AGENT": "cortex", "SNOWFLAKE_CONNECTIONS_FILE": str(tmp_path / "none"), **env}
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_cortex_agent(load_settings(environ, tmp_path / "none.toml"))


def test_a_wrong_key_passphrase(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    key = write_key(rsa_key, tmp_path / "k.p8", b"right")
    settings = Settings(
        agent="cortex", cortex_base_url="https://x", cortex_token_type="KEYPAIR_JWT", cortex_account="a",
        cortex_user="u", cortex_private_key_file=key, cortex_private_key_passphrase="wrong",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="check CORTEX_PRIVATE_KEY_FILE and CORTEX_PRIVATE_KEY_PASSPHRASE"):
        build_cortex_agent(settings)


def test_the_base_url_defaults_to_the_accounts(tmp_path: Path) -> None:
    toml = tmp_path / "connections.toml"
    toml.write_text('[default]\naccount = "myorg-prod"\nuser = "bot"\n')
    settings = load_settings(
        {"CORTEX_TOKEN": "t", "SNOWFLAKE_CONNECTIONS_FILE": str(toml)}, tmp_path / "none.toml"
    )
    assert build_cortex_agent(settings).client.config.base_url == "https://myorg-prod.snowflakecomputing.com"


def test_every_request_takes_a_slot_from_the_rate_limiter(server: CortexServer) -> None:
    now, sleeps = [0.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    agent = agent_for(server)
    agent.client.limiter = RateLimiter(1, clock=lambda: now[0], sleep=sleep)
    thread = agent.start_thread()
    first = ask(agent, thread)
    assert sleeps == [60.0]  # one call a minute: the run waited for the thread's minute to pass
    server.faults.append(Fault(status=503, times=1))
    ask(agent, thread, first.message_id)  # its retry takes a slot of its own
    assert sleeps == [60.0] * 3 and len(server.requests) == 4
