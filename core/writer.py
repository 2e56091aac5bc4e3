"""A background writer: stores one batch of reports while the engine builds the next.

Building is Python work and storing is warehouse work (which releases the GIL), so the two
overlap. The agent's own bulk writes (its threads and messages) are queued here too, in
order, so the building thread never waits on the warehouse. At most QUEUED_JOBS jobs wait,
which bounds memory while absorbing a slow write (a checkpoint); the first failure of a
write is raised to the engine at its next `submit` or when the block ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

from core.agent.base import Write
from core.models import Report
from core.storage import ReportStore, Saved

Written = Callable[[Sequence[Report], Saved], None]
Job = list[Report] | Write
QUEUED_JOBS = 4  # two batches of reports, each with the agent's writes before it
_STOP = None


class ReportWriter:
    """Saves submitted batches in order on one thread; `on_written(reports, saved)` per batch."""

    def __init__(self, store: ReportStore, refresh: bool, on_written: Written) -> None:
        self.store = store
        self.refresh = refresh
        self.on_written = on_written
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=QUEUED_JOBS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="report-writer", daemon=True)

    def __enter__(self) -> ReportWriter:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever happened while building, what was already built is still stored.
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None and exc is None:
            raise self._error

    def submit(self, reports: list[Report]) -> None:
        """Queue a batch for storing (waits while QUEUED_JOBS jobs are already queued)."""
        if reports:
            self._put(reports)

    def run(self, write: Write) -> None:
        """Queue another write, to run after what is already queued (an agent's `Store`)."""
        self._put(write)

    def _put(self, job: Job) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue  # drain: nothing more is written after a failure
            try:
                if isinstance(job, list):
                    self.on_written(job, self.store.write(job, refresh=self.refresh))
                else:
                    job()
            except BaseException as exc:
                self._error = exc
