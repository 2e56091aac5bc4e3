"""Answers heard while they are made: the real engine and Cortex client over HTTP to the local
Cortex server (paced like a model writing), the guard gate in front of the listener, and the
local analyst's answer in one go."""

from __future__ import annotations

import os
import pty
import random
import select
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from core import ReportEngine, Requester, Settings
from core.agent.base import PLANNING, QUERYING, SEARCHING, WRITING
from core.agent.local.analyst import LocalAnalyst
from core.agent.testing import ScriptedAgent, Sql, Status, Streamed
from core.errors import AgentUnavailable, AnswerWithheld
from core.guard import Scope, Subjects, check_text
from core.guard.stream import GuardGate
from core.kinds import COACHING, EBR
from core.warehouse.embedded import EmbeddedWarehouse
from tests import test_cortex_engine as cortex_tests
from tests import test_cortex_guard
from tests.conftest import AS_OF
from tests.cortex_scripts import LEAKS, ME, OTHER, OTHER_NAME, SARAH_SQL, WEEK, T
from tests.cortex_server import CortexServer, Fault
from tests.test_cortex_client import CONTEXT, PROMPT, agent_for

server, cortex_env = cortex_tests.server, cortex_tests.cortex_env  # the local Cortex server, as there
ADMIN = Requester(is_admin=True)
AISHA = "REP005"
MY_SQL = f"SELECT SUM(revenue) FROM {T}.conversions WHERE customer_id = '{ME}' AND {WEEK}"


@dataclass
class Heard:
    """A listener that records what it hears, and when (time.monotonic())."""

    events: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # ("status", phase, message) / ("text", delta, "")
    times: list[float] = field(default_factory=list)

    def status(self, phase: str, message: str = "") -> None:
        self.events.append(("status", phase, message))
        self.times.append(time.monotonic())

    def text(self, delta: str) -> None:
        self.events.append(("text", delta, ""))
        self.times.append(time.monotonic())

    @property
    def texts(self) -> list[str]:
        return [e[1] for e in self.events if e[0] == "text"]

    @property
    def phases(self) -> list[str]:
        return [e[1] for e in self.events if e[0] == "status"]

    @property
    def first_text_at(self) -> float:
        return next(t for e, t in zip(self.events, self.times, strict=True) if e[0] == "text")


@pytest.fixture
def cortex(server: CortexServer, demo_home: Path) -> Iterator[ReportEngine]:
    """The Cortex engine with CUST_12345's report generated (thread 10001, last message 1006)."""
    yield from test_cortex_guard.generated_engine(server, demo_home)


def turn(pieces: list[str], sql: str | None = MY_SQL) -> Any:
    """A scripted Cortex turn (tests/cortex_server Script): clean analyst SQL, then `pieces` as text deltas."""

    def script(
        prompt: str, thread_id: int, user_id: int, assistant_id: int
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        text = "".join(pieces)
        yield "response.status", {"status": "planning", "message": "Planning the next steps"}
        if sql is not None:
            yield "response.tool_use", {"tool_use_id": "t1", "type": "cortex_analyst_text2sql", "input": {}}
            yield "response.tool_result", {"tool_use_id": "t1", "type": "cortex_analyst_text2sql",
                                           "content": [{"type": "json", "json": {"sql": sql}}]}  # fmt: skip
        for piece in pieces:
            yield "response.text.delta", {"content_index": 2, "text": piece}
        yield "response.text", {"content_index": 2, "text": text}
        yield "metadata", {"role": "assistant", "message_id": assistant_id}
        meta = {"assistant_message_id": assistant_id}
        yield "response", {"role": "assistant", "content": [{"type": "text", "text": text}], "metadata": meta}

    return script


# --- a clean answer -----------------------------------------------------------------------


def test_a_clean_cortex_answer_streams_its_statuses_in_order_then_text_equal_to_the_answer(
    cortex: ReportEngine, server: CortexServer
) -> None:
    heard = Heard()
    result = cortex.ask(ADMIN, ME, "How did email do?", listener=heard)
    assert "".join(heard.texts) == result.answer.text and len(heard.texts) > 1
    # Statuses as the service reported its steps, each phase once in a row, all before the text.
    assert heard.events[:5] == [
        ("status", PLANNING, "Planning the next steps"),
        ("status", QUERYING, "Executing tool `analyst`"),
        ("status", QUERYING, "Executing query"),
        ("status", SEARCHING, ""),
        ("status", WRITING, ""),
    ]
    assert {e[0] for e in heard.events[5:]} == {"text"}


def test_text_goes_out_as_the_agent_writes_it_not_at_the_end(
    cortex: ReportEngine, server: CortexServer
) -> None:
    pieces = ["Your revenue ", "grew 4.2% ", "week over week, ", "led by email."]
    server.faults.append(Fault(prompt="paced", script=turn(pieces), first_text=0.05, pace=0.15))
    heard = Heard()
    result = cortex.ask(ADMIN, ME, "paced answer please", listener=heard)
    assert result.answer.text == "".join(heard.texts) == "".join(pieces)
    sent = server.runs()[-1].text_sent
    # The first settled words reached the listener before the agent wrote its second delta
    # (the last word of a delta waits for the next: it may go on).
    assert heard.first_text_at < sent[1] and heard.texts[0] == "Your "


def test_a_text_only_answer_whose_aggregate_only_repeats_the_deltas_is_heard_once(
    cortex: ReportEngine, server: CortexServer
) -> None:
    pieces = ["Email drove ", "most of your ", "revenue."]
    server.faults.append(Fault(prompt="no sql", script=turn(pieces, sql=None)))
    heard = Heard()
    result = cortex.ask(ADMIN, ME, "no sql here", listener=heard)
    assert "".join(heard.texts) == result.answer.text == "Email drove most of your revenue."


# --- the guard gate -----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LEAKS))
def test_a_leaking_cortex_answer_streams_nothing_and_is_withheld(
    cortex: ReportEngine, server: CortexServer, name: str
) -> None:
    rule, script = LEAKS[name]
    server.faults.append(Fault(prompt="every customer", script=script))
    heard = Heard()
    with pytest.raises(AnswerWithheld) as withheld:
        cortex.ask(ADMIN, ME, "List revenue for every customer", listener=heard)
    assert withheld.value.rule == rule
    assert heard.texts == []


def test_an_answer_that_later_names_another_customer_stops_there_and_is_withheld(
    cortex: ReportEngine, server: CortexServer
) -> None:
    first, second = "Your revenue grew 4.2% last week. ", "Email led. "
    leak = [f"By comparison {OTHER_NAME.split()[0]} ", " ".join(OTHER_NAME.split()[1:]), " made $48,210.00."]
    server.faults.append(Fault(prompt="compare", script=turn([first, second, *leak])))
    heard = Heard()
    with pytest.raises(AnswerWithheld) as withheld:
        cortex.ask(ADMIN, ME, "compare me", listener=heard)
    assert withheld.value.rule == "text_names_other_subject"
    streamed = "".join(heard.texts)
    # What went out is the clean start; the name split across deltas never began to show.
    assert (
        streamed.startswith(first + "Email led.") and "Meridian" not in streamed and "48,210" not in streamed
    )


def test_an_id_split_across_deltas_is_judged_whole(cortex: ReportEngine, server: CortexServer) -> None:
    pieces = ["Unlike CUST_456", "78, you grew."]
    server.faults.append(Fault(prompt="split id", script=turn(pieces)))
    heard = Heard()
    with pytest.raises(AnswerWithheld):
        cortex.ask(ADMIN, ME, "split id", listener=heard)
    assert "CUST" not in "".join(heard.texts)


def test_sql_that_only_the_final_response_carries_holds_the_text_until_it_is_judged(
    cortex: ReportEngine, server: CortexServer
) -> None:
    # Sarah's SQL in the final `response` only: the analyst was called, its SQL not yet seen.
    _rule, script = LEAKS["sarah_group_by_final_response"]
    server.faults.append(Fault(prompt="everyone", script=script))
    heard = Heard()
    with pytest.raises(AnswerWithheld):
        cortex.ask(ADMIN, ME, "everyone", listener=heard)
    assert heard.texts == [] and QUERYING in heard.phases


# --- retries ------------------------------------------------------------------------------


def test_a_stream_that_broke_after_output_is_not_replayed_to_the_listener(
    cortex: ReportEngine, server: CortexServer
) -> None:
    server.faults.append(Fault(prompt="break", stream="drop"))
    heard = Heard()
    runs = len(server.runs())
    with pytest.raises(AgentUnavailable):
        cortex.ask(ADMIN, ME, "break please", listener=heard)
    assert len(server.runs()) == runs + 1 and heard.phases[:1] == [PLANNING]


def test_a_failure_before_any_output_is_retried_and_heard_once(
    cortex: ReportEngine, server: CortexServer
) -> None:
    server.faults.append(Fault(prompt="flaky", status=503, times=1))
    heard = Heard()
    result = cortex.ask(ADMIN, ME, "flaky service", listener=heard)
    assert "".join(heard.texts) == result.answer.text
    assert heard.phases.count(PLANNING) == 1


def test_a_listener_that_fails_does_not_lose_the_answer(cortex: ReportEngine) -> None:
    class Broken(Heard):
        def text(self, delta: str) -> None:
            raise RuntimeError("the Slack stream went away")

    result = cortex.ask(ADMIN, ME, "How did email do?", listener=Broken())
    assert result.answer.text and result.followup_id


# --- the local analyst --------------------------------------------------------------------


def test_the_local_analyst_answers_in_one_go_after_querying(engine: ReportEngine) -> None:
    engine.generate(engine.targets("CSM001", ME), engine.week())
    heard = Heard()
    result = engine.ask(ADMIN, ME, "What was revenue by channel last week?", listener=heard)
    assert heard.events == [("status", QUERYING, ""), ("text", result.answer.text, "")]


# --- `weekly-report ask` on a terminal ----------------------------------------------------


@contextmanager
def terminal() -> Iterator[Callable[[], str]]:
    """sys.stdout on a pseudo-terminal (set within the test: pytest's capture resets it
    between phases); yields a function returning what was written to it (LF line ends)."""
    master, slave = pty.openpty()
    with open(slave, "w", encoding="utf-8") as tty:
        saved, sys.stdout = sys.stdout, tty

        def written() -> str:
            tty.flush()
            chunks = []
            while select.select([master], [], [], 0.2)[0]:
                chunks.append(os.read(master, 65536))
            return b"".join(chunks).decode().replace("\r\n", "\n")

        try:
            yield written
        finally:
            sys.stdout = saved
            os.close(master)


def test_ask_on_a_terminal_prints_the_answer_as_it_comes(
    cortex_env: Path, server: CortexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", ME]) == 0
    pieces = ["Your revenue ", "grew 4.2% ", "week over week."]
    server.faults.append(Fault(prompt="terminal", script=turn(pieces), pace=0.02))
    with terminal() as written:
        assert main(["ask", "--customer-id", ME, "terminal question"]) == 0
        assert written() == "".join(pieces) + "\n"
    assert "(planning: Planning the next steps…)" in capsys.readouterr().err


def test_ask_on_a_terminal_erases_an_answer_withheld_after_it_began(
    cortex_env: Path, server: CortexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--mode", "single", "--csm-id", "CSM001", "--customer-id", ME]) == 0
    pieces = ["Your revenue grew. ", "Unlike ", f"{OTHER_NAME}'s."]
    server.faults.append(Fault(prompt="terminal", script=turn(pieces)))
    with terminal() as written:
        assert main(["ask", "--customer-id", ME, "terminal question"]) == 1
        shown = written()
    assert shown.startswith("Your revenue grew.") and shown.endswith("\r\x1b[J") and "Meridian" not in shown
    assert "error: I can only answer about CUST_12345" in capsys.readouterr().err


# --- the Cortex client alone: every captured shape and stream mode -------------------------


@pytest.mark.parametrize(
    "capture",
    ["full_stream.sse", "nested_metadata.sse", "text_without_deltas.sse", "non_streaming_response.json"],
)
def test_every_captured_stream_is_heard_as_exactly_its_answer(server: CortexServer, capture: str) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(replay=capture))
    heard = Heard()
    answer = agent.ask(agent.start_thread(), 0, PROMPT, CONTEXT, heard)
    assert "".join(heard.texts) == answer.text
    assert heard.events[-1][0] == "text" and heard.phases[-1] == WRITING


@pytest.mark.parametrize(
    "mode",
    ["done", "nested_metadata", "no_response_metadata", "text_only", "execute_sql", "warning", "elicitation"],
)
def test_every_stream_mode_is_heard_as_exactly_its_answer(server: CortexServer, mode: str) -> None:
    agent = agent_for(server)
    server.faults.append(Fault(stream=mode))
    heard = Heard()
    answer = agent.ask(agent.start_thread(), 0, PROMPT, CONTEXT, heard)
    assert "".join(heard.texts) == answer.text
    assert heard.phases[0] == PLANNING and QUERYING in heard.phases


# --- the gate with a scripted agent: no network --------------------------------------------


@pytest.fixture
def scripted(settings: Settings) -> Iterator[tuple[ReportEngine, dict[str | None, Any]]]:
    """An engine whose follow-ups a test scripts (script[None]), over a generated local report."""
    warehouse = EmbeddedWarehouse(settings.home)
    script: dict[str | None, Any] = {}
    agent = ScriptedAgent(script, otherwise=LocalAnalyst(warehouse), guarded=True)
    with ReportEngine(settings, warehouse, agent) as engine:
        engine.generate(engine.targets("CSM001", ME), engine.week())
        yield engine, script


def test_a_scripted_clean_answer_goes_out_in_settled_pieces(
    scripted: tuple[ReportEngine, dict[str | None, Any]],
) -> None:
    engine, script = scripted
    script[None] = Streamed(Status(QUERYING, "Running SQL"), Sql(MY_SQL), "Reven", "ue grew", " 4%.")
    heard = Heard()
    result = engine.ask(ADMIN, ME, "revenue?", listener=heard)
    assert heard.events == [
        ("status", QUERYING, "Running SQL"),
        ("text", "Revenue ", ""),
        ("text", "grew 4%.", ""),  # "grew" went on once the next piece came
    ]
    assert result.answer.text == "Revenue grew 4%."


def test_a_scripted_answer_whose_sql_reads_everyone_is_silent_from_the_statement_on(
    scripted: tuple[ReportEngine, dict[str | None, Any]],
) -> None:
    engine, script = scripted
    script[None] = Streamed(Status(PLANNING), Sql(SARAH_SQL), Status(QUERYING), "Everyone made money.")
    heard = Heard()
    with pytest.raises(AnswerWithheld):
        engine.ask(ADMIN, ME, "everyone?", listener=heard)
    assert heard.events == [("status", PLANNING, "")]


def test_a_name_is_held_while_it_may_go_on(scripted: tuple[ReportEngine, dict[str | None, Any]]) -> None:
    engine, script = scripted
    first, *rest = OTHER_NAME.split()
    script[None] = Streamed(Sql(MY_SQL), f"Good week. {first} ", *[f"{w} " for w in rest], "grew too.")
    heard = Heard()
    with pytest.raises(AnswerWithheld):
        engine.ask(ADMIN, ME, "who else?", listener=heard)
    assert "".join(heard.texts) == "Good week. "


def test_settled_text_ends_before_an_unfinished_word_or_a_name_that_may_go_on() -> None:
    subjects = Subjects({ME: "Acme Retail", OTHER: OTHER_NAME}, r"CUST_\d+")
    assert subjects.settled("Revenue grew") == len("Revenue ")
    assert subjects.settled("Revenue grew ") == len("Revenue grew ")
    assert subjects.settled("Revenue grew. Meridian Health ") == len("Revenue grew. ")
    assert subjects.settled("Unlike Meridian Health-Partners, ") == len("Unlike Meridian Health-Partners, ")
    assert subjects.settled("Acme ") == 0  # one's own name may go on too: judged whole
    assert subjects.settled("Meridian Group ") == len("Meridian Group ")  # not a name after all
    assert subjects.settled("CUST_456") == 0


@pytest.mark.parametrize("seed", range(20))
def test_pieces_judged_one_by_one_are_the_text_judged_whole(seed: int) -> None:
    """Cut anywhere, a clean text goes on whole (once finished), and a text naming another
    customer goes on at most up to the name, however it is cut."""
    subjects = Subjects({ME: "Acme Retail", OTHER: OTHER_NAME, "CUST_3": "Meridian Labs"}, r"CUST_\d+")
    scope = Scope(EBR.scope, ME, subjects)
    clean = f"Acme Retail ({ME}) grew 4%. Meridian programmes, as at Acme Retail, helped. "
    leak = f"{clean}But {OTHER_NAME.lower().replace(' ', '  ')} grew more."
    cuts = random.Random(seed)
    for text, passes in ((clean, clean), (leak, clean + "But ")):
        heard = Heard()
        gate = GuardGate(heard, scope)
        points = sorted(cuts.sample(range(1, len(text)), 8))
        for start, end in zip([0, *points], [*points, len(text)], strict=True):
            gate.text(text[start:end])
        if check_text(text, scope).ok:
            gate.finish(text)
        streamed = "".join(heard.texts)
        if text == clean:
            assert streamed == clean
        else:  # up to the name at most (the piece holding it goes nowhere), and nothing of it
            assert passes.startswith(streamed)


def test_a_coaching_follow_up_on_the_local_analyst_is_heard_in_one_go(demo_home: Path) -> None:
    warehouse = EmbeddedWarehouse(demo_home)
    settings = Settings(home=demo_home, today=AS_OF)
    with ReportEngine(settings, warehouse, LocalAnalyst(warehouse), kind=COACHING) as engine:
        engine.generate(engine.targets(customer_id=AISHA), engine.week())
        heard = Heard()
        result = engine.ask(ADMIN, AISHA, "How many calls?", listener=heard)
    assert heard.events == [("status", QUERYING, ""), ("text", result.answer.text, "")]


def test_a_status_message_naming_another_customer_goes_without_its_words(
    scripted: tuple[ReportEngine, dict[str | None, Any]],
) -> None:
    engine, script = scripted
    script[None] = Streamed(
        Status(PLANNING, f"Comparing with {OTHER_NAME}"),
        Status(QUERYING, "Running SQL"),
        Sql(MY_SQL),
        "Fine.",
    )
    heard = Heard()
    engine.ask(ADMIN, ME, "status?", listener=heard)
    assert heard.events == [
        ("status", PLANNING, ""),
        ("status", QUERYING, "Running SQL"),
        ("text", "Fine.", ""),
    ]
