"""The agent interface: a conversation thread, and questions asked on it.

Both implementations chain turns the way Cortex Agent threads do: the first question on a
thread has parent message id 0, every later one the id of the last assistant message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.weeks import Week

if TYPE_CHECKING:
    from core.kinds.ebr.analytics import Snapshot


Write = Callable[[], None]
Store = Callable[[Write], None]


def run_now(write: Write) -> None:
    write()


@dataclass(frozen=True)
class AskContext:
    """What the question is about. `section_key` is set when a report section is asked for."""

    customer_id: str
    customer_name: str
    industry: str
    week: Week
    section_key: str | None = None


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


class Agent(ABC):
    """A data agent that answers in threads."""

    name: str = "agent"
    # Whether calls wait on the network: only then do parallel customers pay off. A
    # CPU-bound agent runs customers one after another (threads would only contend for the
    # GIL) and is offered the run's snapshot (`prepared`); one that waits on the network
    # starts at once while the engine queries the metrics alongside.
    waits_on_io: bool = True
    # Whether the engine checks every answer with the guard (core/guard) before it is shown,
    # posted or stored. Only an agent that runs nothing but the project's own SQL, its
    # parameters bound to AskContext.customer_id, may turn this off (the local analyst);
    # an agent that writes its own SQL (Cortex) must keep it on.
    guarded: bool = True

    @abstractmethod
    def start_thread(self) -> str:
        """Create a thread; return its id."""

    @abstractmethod
    def ask(self, thread_id: str, parent_message_id: int, prompt: str, context: AskContext) -> Answer:
        """Ask `prompt` on `thread_id` after `parent_message_id` (0 for the first turn)."""

    @contextmanager
    def prepared(self, snapshot: Snapshot) -> Iterator[None]:
        """Within the block, offer the run's queried data; agents that query by themselves ignore it."""
        yield

    @contextmanager
    def batch(self, store: Store = run_now) -> Iterator[None]:
        """Within the block the agent may defer its own writes, and at the end hand them in
        bulk to `store` (which runs them at once by default, or queues them in order)."""
        yield

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the agent holds (HTTP connections, a Snowflake session); by default nothing."""
