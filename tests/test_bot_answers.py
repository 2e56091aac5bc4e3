"""Answers in a report's thread, end to end over Socket Mode: the bot as `weekly-report bot`
runs it, the local Slack server, the demo warehouse and the local analyst. A follow-up is
streamed with a status and ends with feedback buttons, "How I got this" and the case studies
it cited; the buttons and the report thread's suggested questions are clicked as Slack sends
clicks (block_actions), and who may click what is the engine's decision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.channels.slack_dm.render import SUGGESTED_ACTION
from bot.runner import BotRunner
from bot.slack.answers import FEEDBACK_ACTION, SQL_ACTION, Clicks
from bot.slack.replies import LOOKING_INTO_IT
from core.kinds import EBR
from core.warehouse.base import ANALYTICS
from tests import test_bot_socket_mode as socket_mode
from tests.slack_server import SlackServer
from tests.test_bot_socket_mode import MICHAEL, SARAH, engine_of, replies, request_report

# The bot as `weekly-report bot` runs it, on the local Slack server (tests/test_bot_socket_mode.py).
slack, runner = socket_mode.slack, socket_mode.runner


def answered(slack: SlackServer) -> int:
    """Answers finished in Sarah's DM: streams stopped, placeholders edited."""
    return len([s for s in slack.streams(SARAH) if not s.streaming]) + len(slack.calls_to("chat.update"))


def ask(slack: SlackServer, runner: BotRunner, parent: dict[str, Any], question: str) -> None:
    before = answered(slack)
    slack.send_dm(SARAH, question, thread_ts=parent["ts"])
    slack.wait_for(lambda: answered(slack) > before, timeout=30, what="the answer")
    assert runner.services.wait_idle(30)


def followup(runner: BotRunner, question: str) -> dict[str, Any]:
    [row] = engine_of(runner).warehouse.query(
        "SELECT followup_id, question, feedback, feedback_by, sql_text FROM followups WHERE question = ?",
        [question],
    )
    return row


def block(blocks: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(b for b in blocks if b["type"] == kind)


def click(
    slack: SlackServer,
    runner: BotRunner,
    user: str,
    ts: str,
    action_id: str,
    value: str | None = None,
    *,
    done: Callable[[], object],
) -> None:
    """`user` clicks a button: acknowledged within Slack's 3 s, then handled once `done` holds."""
    ack = slack.wait_ack(slack.click(user, slack.dm_channel(SARAH), ts, action_id, value), timeout=3)
    assert ack.latency_seconds < 3
    slack.wait_for(done, timeout=30, what=f"{action_id} handled")
    assert runner.services.wait_idle(30)


def told(slack: SlackServer, user: str, before: int) -> Callable[[], bool]:
    """Whether `user` was shown an ephemeral message since there were `before` of them."""
    return lambda: len([e for e in slack.ephemerals if e["user"] == user]) > before


def ephemerals(slack: SlackServer, user: str) -> int:
    return len([e for e in slack.ephemerals if e["user"] == user])


def test_a_follow_up_is_streamed_with_a_status_and_ends_with_feedback_and_its_sql(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_12345")
    question = "What was revenue by channel last week?"
    ask(slack, runner, parent, question)

    [stream] = slack.streams(SARAH)
    assert stream.thread_ts == parent["ts"] and not stream.streaming
    assert stream.text.startswith("**Revenue by channel, week of Nov 09 – Nov 15, 2026")
    assert "email" in stream.text and len(stream.appends) <= 2  # the local analyst: in one go
    row = followup(runner, question)
    feedback = block(stream.blocks or [], "context_actions")["elements"][0]
    assert feedback["type"] == "feedback_buttons" and feedback["action_id"] == FEEDBACK_ACTION
    assert (feedback["positive_button"]["value"], feedback["negative_button"]["value"]) == (
        f"positive {row['followup_id']}", f"negative {row['followup_id']}",
    )  # fmt: skip
    [button] = block(stream.blocks or [], "actions")["elements"]
    assert (button["action_id"], button["value"]) == (SQL_ACTION, row["followup_id"])
    statuses = slack.status_history(slack.dm_channel(SARAH), parent["ts"])
    assert statuses[0].status == "is thinking…" and statuses[-1].status == ""
    assert slack.current_status(slack.dm_channel(SARAH), parent["ts"]) is None
    assert not slack.calls_to("chat.update")  # no placeholder edited
    assert LOOKING_INTO_IT not in str(slack.messages(SARAH))

    # feedback: the latest click wins; someone who may not see the report changes nothing
    fid = row["followup_id"]

    def feedback() -> str | None:
        return followup(runner, question)["feedback"]

    click(
        slack,
        runner,
        SARAH,
        stream.ts,
        FEEDBACK_ACTION,
        f"positive {fid}",
        done=lambda: feedback() == "positive",
    )
    click(
        slack,
        runner,
        SARAH,
        stream.ts,
        FEEDBACK_ACTION,
        f"negative {fid}",
        done=lambda: feedback() == "negative",
    )
    assert followup(runner, question)["feedback_by"] == "sarah.johnson@example.com"
    before = ephemerals(slack, MICHAEL)
    click(
        slack,
        runner,
        MICHAEL,
        stream.ts,
        FEEDBACK_ACTION,
        f"positive {fid}",
        done=told(slack, MICHAEL, before),
    )
    assert feedback() == "negative"
    refusal = slack.ephemerals[-1]
    assert refusal["user"] == MICHAEL and "CUST_12345 is not assigned to CSM002" in refusal["text"]

    # "How I got this": the stored SQL, to the clicker only, in the thread
    click(slack, runner, SARAH, stream.ts, SQL_ACTION, done=told(slack, SARAH, ephemerals(slack, SARAH)))
    shown = slack.ephemerals[-1]
    assert shown["user"] == SARAH and shown.get("thread_ts") == parent["ts"]
    code = "\n".join(b["text"]["text"] for b in shown["blocks"] if b["type"] == "section")
    assert "```" in code and "SELECT" in code and "conversions" in code
    click(
        slack, runner, MICHAEL, stream.ts, SQL_ACTION, done=told(slack, MICHAEL, ephemerals(slack, MICHAEL))
    )
    assert slack.ephemerals[-1]["user"] == MICHAEL and "SELECT" not in str(slack.ephemerals[-1])


def test_the_report_thread_ends_with_suggested_questions_that_ask_when_clicked(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_23456")
    report = engine_of(runner).store.load("CUST_23456")
    suggestions = replies(slack, SARAH, parent["ts"])[-1]
    [actions] = [b for b in suggestions["blocks"] if b["type"] == "actions"]
    questions = [e["value"] for e in actions["elements"]]
    assert questions == list(EBR.suggested_questions(report)) and len(questions) == 3
    assert (
        suggestions["metadata"]["event_payload"]["part"]
        == 4
        == suggestions["metadata"]["event_payload"]["of"]
    )

    # Clicked: asked in the thread by whoever clicked, streamed like a typed reply.
    click(slack, runner, SARAH, suggestions["ts"], f"{SUGGESTED_ACTION}_3", done=lambda: answered(slack) == 1)
    [stream] = slack.streams(SARAH)
    assert stream.thread_ts == parent["ts"] and not stream.streaming
    said = [m["text"] for m in replies(slack, SARAH, parent["ts"])]
    assert said[-2] == f":speech_balloon: _{questions[2]}_"  # the clicked question, then its answer
    assert questions[2] == "Are there case studies on improving click-through?"  # its verdict's reason
    assert stream.text.startswith("**Case studies about “improving click-through”**")
    row = followup(runner, questions[2])
    assert row["followup_id"] in str(stream.blocks)
    # the case studies it cited, by title
    [cited] = [b for b in stream.blocks or [] if b["type"] == "context"]
    text = cited["elements"][0]["text"]
    every = [r["title"] for r in engine_of(runner).warehouse.query("SELECT title FROM case_studies")]
    shown = [t for t in every if f"_{t}_" in text]
    assert text.startswith("*Case studies:* _") and 1 <= len(shown) <= 3
    assert all(t in stream.text for t in shown)  # the ones the answer cites

    # Michael may not see CUST_23456's report: his click asks nothing.
    before = len(replies(slack, SARAH, parent["ts"]))
    click(
        slack, runner, MICHAEL, suggestions["ts"], f"{SUGGESTED_ACTION}_1",
        done=lambda: len(replies(slack, SARAH, parent["ts"])) > before,
    )  # fmt: skip
    assert replies(slack, SARAH, parent["ts"])[-1]["text"].startswith(
        ":no_entry: Sorry, CUST_23456 is not assigned"
    )
    assert len(slack.streams(SARAH)) == 1
    assert engine_of(runner).warehouse.scalar("SELECT COUNT(*) FROM followups") == 1


def test_without_streaming_the_answer_is_posted_and_edited_with_its_buttons(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_12345")
    slack.fail("chat.startStream", status=200, error="not_allowed")
    ask(slack, runner, parent, "What was revenue by channel last week?")
    [update] = slack.calls_to("chat.update")
    answer = next(m for m in replies(slack, SARAH, parent["ts"]) if m["ts"] == update.params["ts"])
    assert "Revenue by channel" in answer["text"]
    assert block(answer["blocks"], "context_actions")["elements"][0]["type"] == "feedback_buttons"
    placeholder = next(c for c in slack.calls_to("chat.postMessage") if c.response.get("ts") == answer["ts"])
    assert placeholder.params["text"] == LOOKING_INTO_IT

    # Slack said streaming is not available: the next answer does not try again.
    ask(slack, runner, parent, "How does click-through compare to the benchmark?")
    assert len(slack.calls_to("chat.update")) == 2
    assert len(slack.calls_to("chat.startStream")) == 1
    assert slack.current_status(slack.dm_channel(SARAH), parent["ts"]) is None


@pytest.fixture
def unstreamed(slack: SlackServer, demo_home: Path) -> Iterator[BotRunner]:
    """The bot with WEEKLY_REPORT_STREAMING=false (charts off, as `runner`'s)."""
    environ = socket_mode.bot_environ(
        slack, demo_home, WEEKLY_REPORT_STREAMING="false", WEEKLY_REPORT_CHARTS="off"
    )
    with socket_mode.running_bot(slack, environ) as bot:
        yield bot


def test_with_streaming_turned_off_answers_are_posted_and_edited(
    slack: SlackServer, unstreamed: BotRunner
) -> None:
    parent = request_report(slack, unstreamed, SARAH, "CUST_12345")
    ask(slack, unstreamed, parent, "What was revenue by channel last week?")
    [update] = slack.calls_to("chat.update")
    assert "Revenue by channel" in update.params["text"]
    assert not slack.calls_to("chat.startStream") and not slack.calls_to("assistant.threads.setStatus")


def test_a_double_click_on_a_suggested_question_asks_it_once(slack: SlackServer, runner: BotRunner) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_23456")
    suggestions = replies(slack, SARAH, parent["ts"])[-1]
    channel = slack.dm_channel(SARAH)
    clicks = [slack.click(SARAH, channel, suggestions["ts"], f"{SUGGESTED_ACTION}_2") for _ in range(2)]
    for envelope in clicks:
        slack.wait_ack(envelope, timeout=3)
    slack.wait_for(lambda: answered(slack) >= 1, timeout=30, what="the answer")
    assert runner.services.wait_idle(30)
    said = [
        m["text"] for m in replies(slack, SARAH, parent["ts"]) if m["text"].startswith(":speech_balloon:")
    ]
    assert len(said) == 1 and len(slack.streams(SARAH)) == 1
    assert engine_of(runner).warehouse.scalar("SELECT COUNT(*) FROM followups") == 1


def test_a_forged_suggested_question_is_refused_before_it_is_echoed(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_23456")
    forged = WebClient(token=slack.bot_token, base_url=slack.api_url).chat_postMessage(
        channel=slack.dm_channel(SARAH), thread_ts=parent["ts"], text="Suggested",
        blocks=[{"type": "actions", "elements": [{
            "type": "button", "action_id": f"{SUGGESTED_ACTION}_9", "value": " ",
            "text": {"type": "plain_text", "text": "Ask"},
        }]}],
    )  # fmt: skip  # a button whose value is no question (an old message, or a forged payload)
    before = len(replies(slack, SARAH, parent["ts"]))
    click(
        slack, runner, SARAH, str(forged["ts"]), f"{SUGGESTED_ACTION}_9",
        done=lambda: len(replies(slack, SARAH, parent["ts"])) > before,
    )  # fmt: skip
    said = [m["text"] for m in replies(slack, SARAH, parent["ts"])[before:]]
    assert len(said) == 1 and "question is empty" in said[0]
    assert not any(t.startswith(":speech_balloon:") for t in said)
    assert not slack.streams(SARAH) and not slack.status_history(slack.dm_channel(SARAH), parent["ts"])


def test_a_channel_that_cannot_stream_turns_streaming_off_for_that_answer_only(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_12345")
    for method in ("chat.startStream", "assistant.threads.setStatus"):
        slack.fail(method, status=200, error="method_not_supported_for_channel_type", times=1)
    ask(slack, runner, parent, "What was revenue by channel last week?")
    [update] = slack.calls_to("chat.update")  # posted and edited in its place
    assert "Revenue by channel" in update.params["text"] and not slack.streams(SARAH)

    # The next answer (here, or in a channel that can) streams again, with a status.
    ask(slack, runner, parent, "How does click-through compare to the benchmark?")
    [stream] = slack.streams(SARAH)
    assert not stream.streaming and len(slack.calls_to("chat.update")) == 1
    assert len(slack.calls_to("assistant.threads.setStatus")) > 1


def test_repeated_clicks_are_told_apart_by_thread_question_and_time() -> None:
    now = [0.0]
    clicks = Clicks(window=10, clock=lambda: now[0])
    key = ("D1", "1.0", "what changed?")
    assert clicks.claim(key) and not clicks.claim(key)  # being asked
    assert clicks.claim(("D1", "1.0", "why?")) and clicks.claim(("D1", "2.0", "what changed?"))
    now[0] = 30.0
    assert not clicks.claim(key)  # a slow answer: still being asked
    clicks.done(key)
    now[0] = 39.0
    assert not clicks.claim(key)  # just answered
    now[0] = 40.5
    assert clicks.claim(key)  # asked again, on purpose


def test_a_clicked_question_is_echoed_once_when_the_echos_reply_is_lost(
    slack: SlackServer, runner: BotRunner
) -> None:
    parent = request_report(slack, runner, SARAH, "CUST_23456")
    suggestions = replies(slack, SARAH, parent["ts"])[-1]
    slack.fail("chat.postMessage", status=500, times=1, after=True)  # the echo lands, its answer is lost
    click(slack, runner, SARAH, suggestions["ts"], f"{SUGGESTED_ACTION}_1", done=lambda: answered(slack) == 1)
    said = [
        m["text"] for m in replies(slack, SARAH, parent["ts"]) if m["text"].startswith(":speech_balloon:")
    ]
    assert len(said) == 1  # the bot's client retries server errors, but not this post
    [stream] = slack.streams(SARAH)
    assert not stream.streaming and stream.blocks  # answered all the same


def test_a_cited_case_study_whose_title_names_another_customer_is_not_shown(
    slack: SlackServer, runner: BotRunner
) -> None:
    warehouse = engine_of(runner).warehouse
    other = warehouse.scalar(
        f"SELECT customer_name FROM {ANALYTICS}.customers WHERE customer_id = 'CUST_12345'"
    )
    kept = warehouse.scalar("SELECT MIN(case_study_id) FROM case_studies")
    warehouse.execute(  # every case study but one now names another customer in its title
        "UPDATE case_studies SET title = title || ' at ' || ? WHERE case_study_id <> ?", [other, kept]
    )
    parent = request_report(slack, runner, SARAH, "CUST_23456")
    suggestions = replies(slack, SARAH, parent["ts"])[-1]
    click(slack, runner, SARAH, suggestions["ts"], f"{SUGGESTED_ACTION}_3", done=lambda: answered(slack) == 1)
    [stream] = slack.streams(SARAH)
    cited = " ".join(b["elements"][0]["text"] for b in stream.blocks or [] if b["type"] == "context")
    assert other not in cited
    shown = [
        r["title"] for r in warehouse.query("SELECT title FROM case_studies") if f"_{r['title']}_" in cited
    ]
    assert all(other not in t for t in shown)
