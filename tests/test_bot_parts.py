"""The bot's small parts: request parsing, replies, the TTL cache, the worker pool."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from bot.cache import KeyedLocks, TtlCache
from bot.schedule import next_run
from bot.slack.home import home_view
from bot.slack.identity import Person
from bot.slack.replies import answer_messages, escape, user_message
from bot.slack.requests import Help, OneReport, Portfolio, parse, without_mentions
from bot.workers import Workers
from core import Assignment, Requester, Settings, Week
from core.errors import InvalidWeek, NotAuthorized, WarehouseError
from core.rollup import LatestReport


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Help()),
        ("", Help()),
        ("  help ", Help()),
        ("?", Help()),
        ("CUST_12345", OneReport("CUST_12345")),
        (" cust_12345 ", OneReport("CUST_12345")),
        ("report CUST_12345", OneReport("CUST_12345")),
        ("CUST_12345 REFRESH", OneReport("CUST_12345", refresh=True)),
        ("all", Portfolio()),
        ("report all refresh", Portfolio(refresh=True)),
    ],
)
def test_requests(text: str | None, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("CUST_12A", "'CUST_12A' is not a customer id; expected CUST_ and digits, e.g. CUST_12345."),
        ("'; DROP TABLE weekly_reports; --", "I didn't understand “'; DROP TABLE weekly_reports; --”."),
        ("CUST_12345 now", "I didn't understand “CUST_12345 now”."),
        ("all customers please", "I didn't understand “all customers please”."),
    ],
)
def test_anything_else_is_help_saying_what_was_wrong(text: str, problem: str) -> None:
    request = parse(text)
    assert isinstance(request, Help) and request.problem == problem[:1].upper() + problem[1:]


def test_huge_input_is_echoed_short() -> None:
    request = parse("x" * 50_000)
    assert isinstance(request, Help) and request.problem is not None and len(request.problem) < 200


def test_mentions_are_stripped() -> None:
    assert without_mentions("<@UBOT0001>  CUST_12345") == "CUST_12345"
    assert without_mentions("hey <@UBOT0001|weekly-report> all <@U0OTHER1>") == "hey all"


def test_user_messages_are_one_escaped_line() -> None:
    assert user_message(NotAuthorized("CUST_1 is not assigned to CSM002")) == (
        ":no_entry: Sorry, CUST_1 is not assigned to CSM002."
    )
    assert (
        user_message(InvalidWeek("no data for <script> & co"))
        == ":warning: No data for &lt;script&gt; &amp; co."
    )
    assert user_message(WarehouseError("it broke")) == ":warning: It broke."
    unexpected = user_message(KeyError("xoxb-secret"))
    assert "logged" in unexpected and "xoxb" not in unexpected
    assert escape("a <b> & c") == "a &lt;b&gt; &amp; c"


def test_long_answers_are_split_within_slacks_limits() -> None:
    text = "\n\n".join(f"**Point {i}**: " + "word " * 120 for i in range(40))
    messages = answer_messages(text)
    assert len(messages) > 1
    for m in messages:
        [block] = m.blocks
        assert len(block["text"]["text"]) <= 3000 and len(m.text) <= 3900
    assert "*Point 0*" in messages[0].text and "**" not in messages[0].text
    assert answer_messages("")[0].text == "(the agent returned an empty answer)"


def test_ttl_cache_forgets_after_ttl_and_beyond_its_size() -> None:
    now = [0.0]
    cache: TtlCache[str] = TtlCache(ttl=10, max_items=3, clock=lambda: now[0])
    assert cache.add("a", "1") and not cache.add("a", "2")
    assert cache.get("a") == "1"
    now[0] = 10.5
    assert cache.get("a") is None and cache.add("a", "3")
    for key in "bcd":
        cache.put(key, key)
    assert len(cache) == 3 and cache.get("a") is None  # the oldest went first


def test_keyed_locks_serialise_one_key_and_are_released() -> None:
    locks = KeyedLocks()
    inside, most = [0], [0]

    def work() -> None:
        with locks.hold("CUST_1"):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and not locks._locks


def test_workers_report_a_jobs_failure_and_stop_taking_jobs() -> None:
    workers = Workers(2)
    failures: list[str] = []
    workers.submit("fails", lambda: int("x"), on_error=lambda exc: failures.append(type(exc).__name__))
    workers.submit("works", lambda: None, on_error=lambda exc: failures.append("unexpected"))
    assert workers.wait_idle(10) and failures == ["ValueError"]
    workers.shutdown(timeout=10)
    with pytest.raises(Exception, match="shutting down"):
        workers.submit("late", lambda: None, on_error=print)


def test_next_run_is_the_next_monday_morning_in_the_configured_timezone() -> None:
    los_angeles = ZoneInfo("America/Los_Angeles")
    settings = Settings(schedule="0 8 * * MON", timezone="America/Los_Angeles")
    fire = next_run(settings, [], dt.datetime(2026, 11, 18, 10, 0, tzinfo=los_angeles))
    assert fire == dt.datetime(2026, 11, 23, 8, 0, tzinfo=los_angeles)
    monday_early = next_run(settings, [], dt.datetime(2026, 11, 23, 7, 59, tzinfo=los_angeles))
    assert monday_early == fire


def test_home_view_stays_within_100_blocks_for_a_large_portfolio() -> None:
    customers = [
        Assignment("CSM001", "Ann", "ann@example.com", None, None, f"CUST_{i}", f"Customer <{i}> & Co")
        for i in range(500)
    ]
    admin = Person("U0ADMIN001", Requester(email="boss@example.com", is_admin=True))
    latest = {"CUST_1": LatestReport(Week(dt.date(2026, 11, 9)), "partial")}
    view = home_view(admin, customers, latest, None, Settings())
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert len(view["blocks"]) <= 100
    assert "all 500 customers" in texts[0] and "none (the schedule never fires)" in texts[1]
    assert "*Customer &lt;1&gt; &amp; Co* `CUST_1`\nWeek of Nov 09 – Nov 15, 2026: partial :warning:" in texts
    assert texts[-1] == "…and 410 more customers."
