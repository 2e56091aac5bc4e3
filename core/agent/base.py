"""The agent interface: a conversation thread, and questions asked on it.

Both implementations chain turns the way Cortex Agent threads do: the first question on a
thread has parent message id 0, every later one the id of the last assistant message.
The interface is two calls (`start_thread`, `ask`); the engine passes what it has already
computed about the subject in the `AskContext`. How many reports are built at once is decided
where the agent is chosen (core.agent.workers), not by the agent. Tests script an agent with
core.agent.testing.ScriptedAgent.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.charts import Chart
from core.weeks import Week

log = logging.getLogger(__name__)
Write = Callable[[], None]
Store = Callable[[Write], None]


def run_now(write: Write) -> None:
    write()


@dataclass(frozen=True)
class AskContext:
    """What the question is about: a report kind's subject for a week.

    `section_key` is set when a report section is asked for. `facts` are the subject's facts
    the engine already loaded for the run (the kind's own type, e.g. an EBR's CustomerData),
    and `facts_sql` the statements they came from; None when the engine has not loaded them
    (an agent that needs them queries them itself). `customer_id`, `customer_name` and
    `industry` are the EBR's names for the subject, its name and its group.
    """

    subject_id: str
    subject_name: str
    group: str
    week: Week
    section_key: str | None = None
    kind: str = "ebr"
    facts: Any = field(default=None, compare=False, repr=False)
    facts_sql: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def customer_id(self) -> str:
        return self.subject_id

    @property
    def customer_name(self) -> str:
        return self.subject_name

    @property
    def industry(self) -> str:
        return self.group


@dataclass(frozen=True)
class ResultTable:
    """A result set the agent showed or used (Cortex `response.table`, analyst `result_set`)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Answer:
    """An agent's reply: its text, the assistant message id (None if the turn was not
    persisted), the SQL it ran, the sources it cited, the result sets it carried, the
    service's non-fatal warnings, and whether it is a clarifying question back to the
    asker (`elicitation`) rather than an answer."""

    text: str
    message_id: int | None
    sql: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tables: tuple[ResultTable, ...] = ()
    warnings: tuple[str, ...] = ()
    elicitation: bool = False
    charts: tuple[Chart, ...] = ()  # Vega-Lite specs the agent sent (Cortex `response.chart`)


# What a listener is told the agent is doing (assistant.threads.setStatus shows it in Slack).
PLANNING, QUERYING, SEARCHING, WRITING = "planning", "querying", "searching", "writing"


class AnswerListener(Protocol):
    """Hears an answer while it is made, for a person waiting on it (a Slack thread, the console).

    `status` names what the agent is doing (PLANNING, QUERYING, SEARCHING, WRITING) with the
    service's own words when it has them; `text` is the next piece of the answer's text, in
    order. Through ReportEngine.ask a listener hears only text the guard has cleared, so
    what it shows is never more than the answer that is then returned or withheld.
    """

    def status(self, phase: str, message: str = "") -> None: ...

    def text(self, delta: str) -> None: ...


class Relay:
    """What an agent tells about an answer while it makes it; every call is a no-op without a listener.

    Agents report through a Relay rather than to the listener itself: it repeats no status
    (the same phase and message twice in a row), passes text only if not empty, and also
    hands on, to a listener that has these optional hooks (the engine's guard gate,
    core/guard/stream.py), every SQL statement the agent ran (`sql(statement)`) and every
    result set it showed (`table(result)`), each as soon as the agent knows it and before
    any text that follows it. The public AnswerListener needs neither hook.
    """

    def __init__(self, listener: AnswerListener | None) -> None:
        self.listener = listener
        self._status: tuple[str, str] | None = None
        self._sql: Callable[[str], None] | None = _hook(listener, "sql")
        self._table: Callable[[ResultTable], None] | None = _hook(listener, "table")

    @property
    def phase(self) -> str | None:
        """The last phase told, None before any."""
        return self._status[0] if self._status else None

    def status(self, phase: str, message: str = "") -> None:
        if self.listener is not None and (phase, message) != self._status:
            self._status = (phase, message)
            self._tell(self.listener.status, phase, message)

    def text(self, delta: str) -> None:
        if self.listener is not None and delta:
            self._tell(self.listener.text, delta)

    def _tell(self, call: Callable[..., None], *args: str) -> None:
        """A listener that fails (a Slack stream gone wrong) hears no more of this answer; the
        answer itself goes on, and its caller, which has it in the end, can still show it."""
        try:
            call(*args)
        except Exception:
            log.warning("the answer's listener failed; it hears no more of this answer", exc_info=True)
            self.listener = None

    def sql(self, statement: str) -> None:
        if self._sql is not None:
            self._sql(statement)

    def table(self, result: ResultTable) -> None:
        if self._table is not None:
            self._table(result)


def _hook(listener: AnswerListener | None, name: str) -> Any:
    hook = getattr(listener, name, None)
    return hook if callable(hook) else None


class Agent(ABC):
    """A data agent that answers in threads."""

    name: str = "agent"
    # Whether the engine checks every answer with the guard (core/guard) before it is shown,
    # posted or stored. Only an agent that runs nothing but the project's own SQL, its
    # parameters bound to AskContext.subject_id, may turn this off (the local analyst);
    # an agent that writes its own SQL (Cortex) must keep it on.
    guarded: bool = True

    @abstractmethod
    def start_thread(self) -> str:
        """Create a thread; return its id."""

    @abstractmethod
    def ask(
        self,
        thread_id: str,
        parent_message_id: int,
        prompt: str,
        context: AskContext,
        listener: AnswerListener | None = None,
    ) -> Answer:
        """Ask `prompt` on `thread_id` after `parent_message_id` (0 for the first turn).

        `listener` hears the answer while it is made (its statuses and text, in order, the
        text adding up to the returned Answer's text), through a `Relay`; None for a report's
        generation, where nobody is waiting."""

    @contextmanager
    def batch(self, store: Store = run_now) -> Iterator[None]:
        """Within the block the agent may defer its own writes, and at the end hand them in
        bulk to `store` (which runs them at once by default, or queues them in order)."""
        yield

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the agent holds (HTTP connections, a Snowflake session); by default nothing."""
