"""A channel for tests, shipped with the seam (as httpx ships MockTransport): it keeps every
parcel it is given and answers with a scripted Outcome, so a test can register it under a
channel name and see what the weekly job hands that channel."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.channels.base import Channel, Outcome, Parcel


def one_unit(parcel: Parcel) -> Outcome:
    """Delivered as one unit (one email per parcel, say), one message sent."""
    return Outcome(delivered=1, messages=1)


class RecordingChannel(Channel):
    name = "recording"

    def __init__(self, outcome: Callable[[Parcel], Outcome] = one_unit) -> None:
        self.parcels: list[Parcel] = []
        self.closed = False
        self._outcome = outcome
        self._lock = threading.Lock()

    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome:
        if stopping():
            return Outcome()
        with self._lock:
            self.parcels.append(parcel)
        return self._outcome(parcel)

    def close(self) -> None:
        self.closed = True

    def to(self, person_id: str) -> list[Parcel]:
        """The parcels one person was sent."""
        return [p for p in self.parcels if p.recipient.person_id == person_id]
