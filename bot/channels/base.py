"""The Channel contract (written here only so the email channel type-checks; CHAN owns this file)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from core.models import Report
from core.weeks import Week


@dataclass(frozen=True)
class Recipient:  # one person who receives a run's reports
    person_id: str  # the CSM id (later: the rep id)
    name: str
    email: str


@dataclass(frozen=True)
class Parcel:
    """One recipient's reports of one kind for one week, in the order they are shown."""

    kind: str  # "ebr"
    week: Week
    recipient: Recipient
    reports: tuple[Report, ...]


@dataclass
class Outcome:
    """What a channel did with one parcel: counted into the run summary by the weekly job."""

    delivered: int = 0  # units delivered (Slack: reports DMed; email: emails sent)
    failed: int = 0
    messages: int = 0  # messages/emails actually sent by this attempt (0 on a resume that found them sent)
    # (failure line for the summary, alert line or None)
    problems: list[tuple[str, str | None]] = field(default_factory=list)


class Channel(ABC):
    name: ClassVar[str]  # "slack" | "email" | "console"

    @abstractmethod
    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome: ...

    def close(self) -> None:  # noqa: B027 - release connections; most channels hold none
        """Release connections."""
