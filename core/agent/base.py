"""The agent interface: a conversation thread, and questions asked on it.

Both implementations chain turns the way Cortex Agent threads do: the first question on a
thread has parent message id 0, every later one the id of the last assistant message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.weeks import Week

if TYPE_CHECKING:
    from core.analytics import Snapshot


@dataclass(frozen=True)
class AskContext:
    """What the question is about. `section_key` is set when a report section is asked for."""

    customer_id: str
    customer_name: str
    industry: str
    week: Week
    section_key: str | None = None


@dataclass(frozen=True)
class Answer:
    """An agent's reply: its text, the assistant message id (None if the turn was not
    persisted), the SQL it ran, and the sources it cited."""

    text: str
    message_id: int | None
    sql: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


class Agent(ABC):
    """A data agent that answers in threads."""

    name: str = "agent"

    @abstractmethod
    def start_thread(self) -> str:
        """Create a thread; return its id."""

    @abstractmethod
    def ask(self, thread_id: str, parent_message_id: int, prompt: str, context: AskContext) -> Answer:
        """Ask `prompt` on `thread_id` after `parent_message_id` (0 for the first turn)."""

    def prepare(self, snapshot: Snapshot) -> None:  # noqa: B027 - optional hook
        """Offer the run's queried data; agents that query by themselves ignore it."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Within the block the agent may defer its own writes and flush them in bulk at the end."""
        yield
