"""A report's charts as image files: the one list every channel shows (Slack thread uploads,
email CID images, the console's chart folder), named the same everywhere.

A chart's file name names its report and chart (`CUST_12345-20261109-revenue-trend.png`):
Slack keeps it with the upload, and a file share carries no message metadata, so that name
is how a resumed delivery tells which charts its thread already has.

Rendering (vl-convert, 0.05-0.2 s a chart on a busy 2-core host, half a second to start) runs
in a child process, each spec once: vl-convert holds the GIL while it draws, so drawn in the
run's own process it would stall every delivery thread (their posts late to their paced
slots: a Monday run 1.40x as long with charts instead of about 1.27x). `warm_up` starts the
child, `render_ahead` the charts a delivery will need next, so they are drawn while it waits
between posts (Slack's one a second per channel). Never in the run's own process: a chart
not drawn within RENDER_TIMEOUT, or whose child died twice, is given up (the report or answer
goes without it, said like an upload that failed), its children ended and new ones started.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from bot.charts import Drawing, draw
from core import Report
from core.charts import Chart
from core.errors import ChartNotRendered
from core.kinds import get_kind

log = logging.getLogger("weekly_report.bot.charts")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Rendered charts remembered (about 30-60 kB of PNG each): a weekly run's Slack and email
# deliveries of one report are close together, so a few hundred suffice.
RENDERED_KEPT = 256
# Two children (one a core) draw the first charts of every CSM's first report, all needed
# a few seconds into a run, in half the time one would take.
RENDER_PROCESSES = 2
# How long a chart is waited for before it is given up (its report or answer goes without
# it): an EBR chart takes 0.05-0.4 s, a cold child 1-2 s to start.
RENDER_TIMEOUT = 10.0


@dataclass(frozen=True)
class ChartFile:
    """One chart of one report, with the file name it goes by."""

    chart: Chart
    filename: str

    @property
    def title(self) -> str:
        return self.chart.title

    @property
    def alt_text(self) -> str:
        return self.chart.alt_text

    def png(self) -> bytes:
        """The chart rendered (vl-convert): once for a report that goes both to Slack and by
        email (the same spec is remembered), and at once if `render_ahead` already drew it."""
        return _RENDERER.drawing(self.chart).png


def chart_files(report: Report, enabled: bool = True) -> list[ChartFile]:
    """The report's charts (its kind's `charts(report)`), none when `enabled` is False
    (WEEKLY_REPORT_CHARTS=off). Not rendered yet: see `ChartFile.png` and `rendered`."""
    if not enabled:
        return []
    charts: Sequence[Chart] = get_kind(report.kind).charts(report)
    return [ChartFile(c, chart_filename(report.report_id, c.name)) for c in charts]


def chart_filename(report_id: str, name: str) -> str:
    """`<report id>-<chart name>.png`, in characters any file system and mail client accept."""
    return f"{_UNSAFE.sub('-', report_id)}-{_UNSAFE.sub('-', name)}.png"


def rendered(files: Sequence[ChartFile]) -> list[tuple[ChartFile, bytes]]:
    """Each chart with its PNG; a chart whose spec the renderer refuses, or that it gave up on
    (too slow, its process died), is left out (logged), so a bad chart never costs the report
    or answer its delivery. Fewer images than files: see `not_drawn`."""
    images = []
    for f in files:
        try:
            images.append((f, f.png()))
        except (ValueError, ChartNotRendered) as exc:  # ValueError: a spec vl-convert cannot draw
            log.warning("chart %s could not be rendered (%s); sent without it", f.filename, _short(exc))
    return images


def not_drawn(files: Sequence[ChartFile], images: Sequence[tuple[ChartFile, bytes]]) -> str | None:
    """Why some of `files` have no image (as an upload's error is reported), else None."""
    missing = len(files) - len(images)
    return f"{missing} of {len(files)} chart(s) could not be drawn" if missing else None


def chart_words(chart: Chart) -> tuple[str, ...] | None:
    """The words `chart` shows once drawn (core.charts.ChartWords: what the engine's guard
    reads of an agent's chart), None when it cannot be drawn (it is then not shown either).
    The drawing is remembered, so the upload that follows draws nothing again."""
    try:
        return _RENDERER.drawing(chart).words
    except (ValueError, ChartNotRendered) as exc:
        log.warning("chart %s could not be drawn to be read (%s); left out", chart.name, _short(exc))
        return None


def render_ahead(files: Iterable[ChartFile]) -> None:
    """Start rendering `files` in the background, in order, for a delivery about to need them."""
    for f in files:
        _RENDERER.future(f.chart)


def forget_rendered() -> None:
    """Forget every chart drawn (a benchmark's runs each draw their own)."""
    _RENDERER.forget()


def warm_up() -> None:
    """Start the renderer now (vl-convert takes a second or two to start), for a run that will
    draw charts once its reports are ready: it starts while they are generated."""
    _RENDERER.future(_WARM_UP)


_WARM_UP = Chart("warm-up", "", "", {"mark": "point", "data": {"values": [{"x": 0}]}})


class _Renderer:
    """Renders each spec once in a child process; the latest RENDERED_KEPT are remembered.

    Never in this process: vl-convert holds the GIL while it draws, and an agent's spec that
    exhausts V8's memory aborts the process drawing it. A chart not drawn within `timeout`
    (waited for from when it is asked for) is given up: the children are ended, so that it
    costs no more, and a new one draws the next chart. A chart whose child died is tried once
    more in a new one (it may have died of another chart drawn beside it), then given up."""

    def __init__(
        self,
        kept: int = RENDERED_KEPT,
        processes: int = RENDER_PROCESSES,
        timeout: float = RENDER_TIMEOUT,
        draw: Callable[[Chart], Drawing] = draw,
    ) -> None:
        self._kept, self._processes, self._draw = kept, processes, draw
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None  # started on first use, again after a death
        self._lock = threading.Lock()
        self._futures: OrderedDict[str, Future[Drawing]] = OrderedDict()  # spec JSON -> drawing
        self._drawing: weakref.WeakSet[Future[Drawing]] = weakref.WeakSet()  # started in this pool

    def drawing(self, chart: Chart) -> Drawing:
        """The chart drawn: remembered, or drawn (waited for at most `timeout` seconds).
        Raises ChartNotRendered when given up, ValueError when vl-convert refuses the spec."""
        for attempt in (1, 2):
            future = self.future(chart)
            try:
                return future.result(timeout=self.timeout)
            except TimeoutError:
                self._restart(future)
                raise ChartNotRendered(f"not drawn within {self.timeout:g} s; given up") from None
            except (BrokenProcessPool, CancelledError):  # CancelledError: queued when a pool ended
                self._restart(future)
                if attempt == 2:
                    raise ChartNotRendered("the renderer process died drawing it; given up") from None
                log.warning("the chart renderer process died; drawing %s again in a new one", chart.name)
        raise AssertionError("unreachable")

    def forget(self) -> None:
        with self._lock:
            self._futures.clear()

    def close(self) -> None:
        """End the children (a test's renderer)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _end(pool)

    def future(self, chart: Chart) -> Future[Drawing]:
        """The chart's rendering: the one remembered (unless it failed), else one started."""
        key = _key(chart)
        with self._lock:
            found = self._futures.get(key)
            if found is not None and not found.cancelled() and not (found.done() and found.exception()):
                self._futures.move_to_end(key)
                return found
            started = self._start(chart)  # a failure is tried again next time
            self._futures[key] = started
            while len(self._futures) > self._kept:
                self._futures.popitem(last=False)
            return started

    def _start(self, chart: Chart) -> Future[Drawing]:
        for _ in (1, 2):
            if self._pool is None:
                # spawn, not fork: a forked child would inherit locks the run's threads hold
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self._processes, mp_context=context)
            try:
                future = self._pool.submit(self._draw, chart)
            except BrokenProcessPool:  # it died since: a new one
                _end(self._pool)
                self._pool = None
                continue
            self._drawing.add(future)
            return future
        failed: Future[Drawing] = Future()
        failed.set_exception(BrokenProcessPool("the chart renderer cannot be started"))
        return failed

    def _restart(self, given_up: Future[Drawing]) -> None:
        """End the children of the pool that was drawing `given_up` (if no newer one took its
        place): charts they were drawing fail with BrokenProcessPool, and are drawn again in
        a new child when asked for."""
        with self._lock:
            pool = self._pool
            if pool is None or given_up not in self._drawing:  # a newer pool: not its doing
                return
            self._pool, self._drawing = None, weakref.WeakSet()
            for key, future in list(self._futures.items()):
                if not future.done() or future is given_up:
                    del self._futures[key]
        _end(pool)


def _end(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's children at once (ProcessPoolExecutor has no public way before Python
    3.14's terminate_workers) and let it go without waiting."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _key(chart: Chart) -> str:
    return json.dumps(chart.spec, sort_keys=True, default=str)  # a spec is a dict: not hashable


_RENDERER = _Renderer()


def save_charts(report: Report, folder: Path) -> list[tuple[ChartFile, Path]]:
    """The report's charts written to `folder` (made if missing) under their file names, each
    with its path; a report shown again overwrites its own images, nothing else."""
    images = rendered(chart_files(report))
    if images:
        folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for f, png in images:
        path = folder / f.filename
        path.write_bytes(png)
        saved.append((f, path))
    return saved


def _short(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
