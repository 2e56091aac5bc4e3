"""The bot's own bounded pools, so that Bolt's listener threads only ever acknowledge.

`TrackedExecutor` is a ThreadPoolExecutor that can tell when it is idle (the console and
tests wait for that); `Workers` runs slow jobs (report generation, delivery, answers) on
one, with an error callback per job and per-key locks so that concurrent requests for the
same report wait for each other instead of doing the work twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from bot.cache import KeyedLocks
from core import WeeklyReportError

log = logging.getLogger("weekly_report.bot.workers")


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that counts its unfinished tasks."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._unfinished = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._unfinished += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)  # also runs when a queued task is cancelled
        return future

    @property
    def unfinished(self) -> int:
        with self._idle:
            return self._unfinished

    def wait_idle(self, timeout: float) -> bool:
        """True once every submitted task has finished; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def _done(self, _: Future[Any] | None) -> None:
        with self._idle:
            self._unfinished -= 1
            self._idle.notify_all()


class Workers:
    """Runs jobs on a pool of `size` threads; a job's exception goes to its `on_error`."""

    def __init__(self, size: int) -> None:
        self.pool = TrackedExecutor(size, "weekly-report-worker")
        self._locks = KeyedLocks()
        self._closed = False

    def submit(self, name: str, job: Callable[[], object], on_error: Callable[[Exception], object]) -> None:
        if self._closed:
            raise WeeklyReportError("the bot is shutting down; please ask again in a minute")
        self.pool.submit(self._run, name, job, on_error)

    def exclusive(self, key: str) -> AbstractContextManager[None]:
        """Hold the lock of `key` (e.g. one report), so that jobs on it run one at a time."""
        return self._locks.hold(key)

    def wait_idle(self, timeout: float) -> bool:
        return self.pool.wait_idle(timeout)

    def shutdown(self, timeout: float) -> None:
        """Take no new jobs, drop queued ones, and give running ones `timeout` seconds."""
        self._closed = True
        if self.pool.unfinished:
            log.info("stopping the worker pool: %d job(s) queued or running", self.pool.unfinished)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if not self.pool.wait_idle(timeout):
            log.warning("stopping with %d job(s) still running after %.0fs", self.pool.unfinished, timeout)

    @staticmethod
    def _run(name: str, job: Callable[[], object], on_error: Callable[[Exception], object]) -> None:
        try:
            job()
        except Exception as exc:
            try:
                on_error(exc)
            except Exception:
                log.exception("%s failed, and so did telling the person (%s)", name, exc)
