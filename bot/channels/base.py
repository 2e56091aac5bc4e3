"""The delivery channel contract: what a channel is given, and what it reports back.

A channel (Slack DM, email, console) is a folder under bot/channels plus one `register(...)`
line in bot/channels/__init__.py. It renders a recipient's reports for its medium and
delivers them through the one ledger (core.deliveries), exactly once: claim, record the
attempt before sending, send, record the outcome. The weekly job (bot.weekly) hands each
channel one `Parcel` per recipient and counts the `Outcome` into the run's summary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TextIO

from core import DeliveryStore, Report, Settings, Week

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.channels.slack_dm.delivery import Poster
    from bot.slack.identity import People


@dataclass(frozen=True)
class Recipient:
    """One person who receives a run's reports."""

    person_id: str  # the CSM id (later: the rep id)
    name: str
    email: str
    # Per channel, an address the directory already knows (e.g. {"slack": "U0123"} from
    # csm_assignments.slack_user_id); a channel without one finds the person by email.
    addresses: Mapping[str, str] = field(default_factory=dict)


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
    unreachable: bool = False  # the channel could not find the recipient at all (Slack: not in the workspace)


@dataclass(frozen=True)
class Preview:
    """What a channel would do with a recipient's reports (a dry run): reads only."""

    to: str  # where it goes: a Slack user id, an address, "the console"
    states: Mapping[str, str] = field(default_factory=dict)  # report id -> its state here, e.g. "DM not sent"
    note: str | None = None  # a line for the whole parcel, e.g. "email not sent"


class Channel(ABC):
    """A delivery medium. One instance serves a whole run, from several threads at once."""

    name: ClassVar[str]  # "slack" | "email" | "console"
    # False for a channel that records nothing (the console): a run whose channels all record
    # nothing is a preview, neither claimed nor recorded, so it can be repeated.
    records: bool = True

    @abstractmethod
    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome:
        """Deliver `parcel` exactly once. `stopping()` is asked before each unit (a report, an
        email): True means stop and leave the rest to a resumed run; each ask also tells the
        run it is making progress."""

    def preview(self, recipient: Recipient, kind: str, week: Week, report_ids: tuple[str, ...]) -> Preview:
        """Where a run would send `recipient` the reports `report_ids`, and what is already sent
        (a dry run: reads only, and the reports may not be generated yet)."""
        return Preview(f"{recipient.email} ({self.name})")

    def close(self) -> None:  # noqa: B027  (optional: most channels hold nothing)
        """Release connections."""


@dataclass
class ChannelServices:
    """What a channel factory may use; a factory returns None when its channel is not configured."""

    settings: Settings
    deliveries: DeliveryStore  # the ledger
    client: WebClient | None = None  # Slack's Web API, when SLACK_BOT_TOKEN is set
    poster: Poster | None = None  # posts to Slack, paced and retried (shared by the process)
    people: People | None = None  # finds a CSM's Slack user
    out: TextIO | None = None  # where the console channel prints (None: stdout)


ChannelFactory = Callable[[ChannelServices], Channel | None]
