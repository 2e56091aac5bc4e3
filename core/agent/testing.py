"""A scripted agent for tests, shipped with the seam (as httpx ships `MockTransport`).

A test scripts the agent's replies instead of subclassing a real agent:

    agent = ScriptedAgent(lambda asked: f"{asked.context.section_key} of {asked.context.subject_id}")
    agent = ScriptedAgent({"business_value": AgentUnavailable("HTTP 503")}, otherwise=LocalAnalyst(wh))
    engine = ReportEngine(settings, warehouse, agent)

A reply is text (an `Answer` with the next message id), an `Answer`, a `Streamed` answer, or
an exception (raised). A listener hears a text or an `Answer` in one go (its SQL first); a
`Streamed` one step by step:

    ScriptedAgent({None: Streamed(Status(QUERYING, "Running SQL"), Sql("SELECT ..."), "Revenue ", "grew.")})

A mapping is keyed by section key (None: a follow-up question); what it does not script goes
to `otherwise` (another agent, which then also starts the threads), else fails the test
loudly. Every call is recorded in `asked`, in order.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from core.agent.base import Agent, Answer, AnswerListener, AskContext, Relay, Store, run_now


@dataclass(frozen=True)
class Status:
    """A scripted status step."""

    phase: str
    message: str = ""


@dataclass(frozen=True)
class Sql:
    """A scripted step: a statement the agent ran (the guard gate hears it; the Answer has it)."""

    statement: str


class Streamed:
    """A reply heard in steps: text pieces (str), `Status` and `Sql`, in order. The Answer is
    `answer` if given, else the pieces' text and the statements, with the next message id."""

    def __init__(self, *steps: str | Status | Sql, answer: Answer | None = None) -> None:
        self.steps, self.answer = steps, answer

    @property
    def text(self) -> str:
        return "".join(step for step in self.steps if isinstance(step, str))

    @property
    def sql(self) -> tuple[str, ...]:
        return tuple(step.statement for step in self.steps if isinstance(step, Sql))

    def play(self, relay: Relay) -> None:
        for step in self.steps:
            if isinstance(step, Status):
                relay.status(step.phase, step.message)
            elif isinstance(step, Sql):
                relay.sql(step.statement)
            else:
                relay.text(step)


Reply = str | Answer | Streamed | BaseException
Script = Callable[["Asked"], Reply] | Mapping[str | None, Reply]


@dataclass(frozen=True)
class Asked:
    """One `ask` the agent received."""

    thread_id: str
    parent_message_id: int
    prompt: str
    context: AskContext


class ScriptedAgent(Agent):
    """Replies from a script; threads and message ids are counters (or `otherwise`'s)."""

    def __init__(
        self,
        script: Script,
        *,
        otherwise: Agent | None = None,
        guarded: bool | None = None,
        name: str = "scripted",
    ) -> None:
        self.script, self.otherwise, self.name = script, otherwise, name
        # Checked by the guard like any agent, unless it stands in for one that is not.
        self.guarded = guarded if guarded is not None else (otherwise.guarded if otherwise else True)
        self.asked: list[Asked] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start_thread(self) -> str:
        if self.otherwise is not None:
            return self.otherwise.start_thread()
        with self._lock:
            return f"thread-{next(self._ids)}"

    def ask(
        self,
        thread_id: str,
        parent_message_id: int,
        prompt: str,
        context: AskContext,
        listener: AnswerListener | None = None,
    ) -> Answer:
        asked = Asked(thread_id, parent_message_id, prompt, context)
        with self._lock:
            self.asked.append(asked)
        reply = self._reply(asked)
        if reply is None:
            assert self.otherwise is not None
            return self.otherwise.ask(thread_id, parent_message_id, prompt, context, listener)
        if isinstance(reply, BaseException):
            raise reply
        relay = Relay(listener)
        if isinstance(reply, Streamed):
            reply.play(relay)
            if reply.answer is not None:
                return reply.answer
            with self._lock:
                return Answer(reply.text, next(self._ids), reply.sql)
        if not isinstance(reply, Answer):
            with self._lock:
                reply = Answer(reply, next(self._ids))
        for statement in reply.sql:
            relay.sql(statement)
        relay.text(reply.text)
        return reply

    def _reply(self, asked: Asked) -> Reply | None:
        if callable(self.script):
            return self.script(asked)
        key = asked.context.section_key
        if key in self.script:
            return self.script[key]
        if self.otherwise is None:
            raise AssertionError(
                f"the scripted agent has no reply for {key or 'a follow-up'}: {asked.prompt!r}"
            )
        return None

    @contextmanager
    def batch(self, store: Store = run_now) -> Iterator[None]:
        if self.otherwise is None:
            yield
            return
        with self.otherwise.batch(store):
            yield

    def close(self) -> None:
        if self.otherwise is not None:
            self.otherwise.close()
