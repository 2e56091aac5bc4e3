"""Answers from the Cortex agent in a report's thread (the Bolt app through App.dispatch, the
local Slack and Cortex servers): the agent's text is streamed as it arrives, and an answer
the guard withholds after some of it was streamed is taken back and replaced by the refusal."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from core import Settings
from tests import test_bot_dispatch as dispatch
from tests.cortex_server import CortexServer, Fault
from tests.slack_server import SlackServer
from tests.test_bot_dispatch import SARAH, Bot, ResponseUrls, report_parents, thread_replies
from tests.test_cortex_charts import benign_with, charted, spelled
from tests.test_stream import OTHER_NAME, turn

# The dispatch harness with the Cortex agent at the local Cortex server (tests/test_bot_dispatch.py).
slack, responses, cortex, cortex_bot = (
    dispatch.slack,
    dispatch.responses,
    dispatch.cortex,
    dispatch.cortex_bot,
)


def ask(bot: Bot, question: str) -> str:
    """Sarah's report on CUST_12345, a question in its thread; the thread's ts."""
    bot.command("CUST_12345")
    bot.settle()
    [parent] = report_parents(bot.slack, SARAH)
    bot.dm(SARAH, question, thread_ts=parent["ts"])
    bot.settle()
    return str(parent["ts"])


def test_the_agents_text_is_streamed_as_it_arrives(cortex_bot: Bot, cortex: CortexServer) -> None:
    pieces = ["Your revenue grew ", "4.2% last week, ", "led by email.\n\n", "Push was flat."]
    cortex.faults.append(Fault(prompt="grow", script=turn(pieces), first_text=0.05, pace=0.05))
    thread_ts = ask(cortex_bot, "How did we grow?")
    [stream] = cortex_bot.slack.streams(SARAH)
    assert stream.thread_ts == thread_ts and not stream.streaming
    assert stream.text == "".join(pieces)
    assert stream.appends[0].method == "chat.startStream" and stream.appends[0].text  # text before the end
    assert any(b["type"] == "context_actions" for b in stream.blocks or [])


def test_an_answer_withheld_after_it_began_is_replaced_by_the_refusal(
    cortex_bot: Bot, cortex: CortexServer
) -> None:
    first, second = "Your revenue grew 4.2% last week. ", "Email led. "
    leak = [f"By comparison {OTHER_NAME.split()[0]} ", " ".join(OTHER_NAME.split()[1:]), " made $48,210.00."]
    cortex.faults.append(
        Fault(prompt="compare", script=turn([first, second, *leak]), first_text=0.05, pace=0.1)
    )
    thread_ts = ask(cortex_bot, "compare me with the others")

    [stream] = cortex_bot.slack.streams(SARAH)
    assert stream.text.startswith(first.strip())  # it had begun to show
    answers = thread_replies(cortex_bot.slack, SARAH, thread_ts)[4:]  # after the sections and suggestions
    assert [m["text"] for m in answers] == [
        ":warning: I can only answer about CUST_12345; that answer was withheld (text_names_other_subject)."
    ]
    assert first.strip() not in str(cortex_bot.slack.messages(SARAH))  # the streamed start is gone
    assert cortex_bot.slack.current_status(cortex_bot.slack.dm_channel(SARAH), thread_ts) is None
    [row] = cortex_bot.services.engine.warehouse.query("SELECT status FROM followups")
    assert row["status"] != "answered"


def test_a_turn_that_fails_midway_takes_back_what_it_streamed_and_says_why(
    cortex_bot: Bot, cortex: CortexServer
) -> None:
    pieces = ["Your revenue grew ", "4.2% last week, ", "led by ", "email ", "and ", "push."]
    cortex.faults.append(
        Fault(prompt="slow", script=turn(pieces), first_text=0.05, pace=0.4)
    )  # past the 1 s deadline
    thread_ts = ask(cortex_bot, "a slow one")
    [stream] = cortex_bot.slack.streams(SARAH)
    assert stream.text.startswith("Your revenue")  # it had begun
    [said] = [m["text"] for m in thread_replies(cortex_bot.slack, SARAH, thread_ts)[4:]]
    assert said.startswith(":warning: ") and "did not finish within CORTEX_TURN_TIMEOUT=1s" in said
    assert "Your revenue" not in str(cortex_bot.slack.messages(SARAH))
    assert cortex_bot.slack.current_status(cortex_bot.slack.dm_channel(SARAH), thread_ts) is None


@pytest.fixture
def charting_bot(
    settings: Settings, slack: SlackServer, responses: ResponseUrls, cortex: CortexServer
) -> Iterator[Bot]:
    """`cortex_bot` with chart images on, as they are by default."""
    yield from dispatch.cortex_bot_with(dataclasses.replace(settings, charts=True), slack, responses, cortex)


def test_an_answers_chart_is_shared_in_its_thread_and_one_spelling_another_customer_withholds_it(
    charting_bot: Bot, cortex: CortexServer
) -> None:
    cortex.faults.append(
        Fault(prompt="by channel", script=charted([{"channel": "email", "revenue": 1.0}]), times=1)
    )
    thread_ts = ask(charting_bot, "Chart my revenue by channel")
    cortex.faults.append(Fault(prompt="Who", script=benign_with(spelled(OTHER_NAME)), times=1))
    charting_bot.dm(SARAH, "Who buys by channel?", thread_ts=thread_ts)
    charting_bot.settle()

    replies = thread_replies(charting_bot.slack, SARAH, thread_ts)
    files = [f["name"] for m in replies for f in m.get("files") or ()]
    [answered] = [f for f in files if "-answer-" in f]  # the first answer's; none of the second's
    assert answered.startswith("CUST_12345-20261109-answer-") and answered.endswith("-agent-chart-1.png")
    assert replies[-1]["text"] == (
        ":warning: I can only answer about CUST_12345; that answer was withheld (chart_other_subject)."
    )
    assert OTHER_NAME not in str(charting_bot.slack.messages(SARAH))
