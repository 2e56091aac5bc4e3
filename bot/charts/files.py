"""A report's charts as image files: the one list every channel shows (Slack thread uploads,
email CID images, the console's chart folder), named the same everywhere.

A chart's file name names its report and chart (`CUST_12345-20261109-revenue-trend.png`):
Slack keeps it with the upload, and a file share carries no message metadata, so that name
is how a resumed delivery tells which charts its thread already has.

Rendering (vl-convert, about 0.1-0.2 s a chart on a busy 2-core host) runs on a small pool of
its own, each spec once: `render_ahead` starts the charts a delivery will need next, so they
are drawn while it waits between posts (Slack's one a second per channel) rather than after.
(A child process instead measured slower: its start-up, and the same two busy cores.)
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.charts import render_png
from core import Report
from core.charts import Chart
from core.kinds import get_kind

log = logging.getLogger("weekly_report.bot.charts")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Rendered charts remembered (about 30-60 kB of PNG each): a weekly run's Slack and email
# deliveries of one report are close together, so a few hundred suffice.
RENDERED_KEPT = 256
# vl-convert (which lets go of the GIL while it draws) renders about twice as fast on two
# threads as on one on 2 cores, no faster on more.
RENDER_THREADS = 2


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
        return _RENDERER.png(self.chart)


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
    """Each chart with its PNG; a chart whose spec the renderer refuses is left out (logged),
    so a bad chart never costs the report its delivery."""
    images = []
    for f in files:
        try:
            images.append((f, f.png()))
        except ValueError as exc:  # vl-convert's answer to a spec it cannot compile or draw
            log.warning("chart %s could not be rendered (%s); sent without it", f.filename, _short(exc))
    return images


def render_ahead(files: Iterable[ChartFile]) -> None:
    """Start rendering `files` in the background, in order, for a delivery about to need them."""
    for f in files:
        _RENDERER.future(f.chart)


def warm_up() -> None:
    """Start the renderer now (vl-convert takes a second or two to start), for a run that will
    draw charts once its reports are ready: it starts while they are generated."""
    _RENDERER.future(_WARM_UP)


_WARM_UP = Chart("warm-up", "", "", {"mark": "point", "data": {"values": [{"x": 0}]}})


class _Renderer:
    """Renders each spec once on a pool of its own; the latest RENDERED_KEPT are remembered."""

    def __init__(self, kept: int = RENDERED_KEPT, threads: int = RENDER_THREADS) -> None:
        self._kept, self._threads = kept, threads
        self._pool: ThreadPoolExecutor | None = None  # started on first use
        self._lock = threading.Lock()
        self._futures: OrderedDict[str, Future[bytes]] = OrderedDict()  # spec JSON -> PNG

    def png(self, chart: Chart) -> bytes:
        """The chart's PNG: remembered, being drawn (waited for), or drawn here and now, also
        when it is queued behind others' (this caller would only wait for them)."""
        queued = self.future(chart)
        if not queued.cancel():
            return queued.result()
        mine: Future[bytes] = Future()
        mine.set_running_or_notify_cancel()
        with self._lock:
            self._keep(_key(chart), mine)
        try:
            png = render_png(chart)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        mine.set_result(png)
        return png

    def future(self, chart: Chart) -> Future[bytes]:
        """The chart's rendering: the one remembered (unless it failed), else one started."""
        key = _key(chart)
        with self._lock:
            found = self._futures.get(key)
            if found is not None and not found.cancelled() and not (found.done() and found.exception()):
                self._futures.move_to_end(key)
                return found
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="chart-render")
            started = self._pool.submit(render_png, chart)  # a failure is tried again next time
            self._keep(key, started)
            return started

    def _keep(self, key: str, future: Future[bytes]) -> None:
        self._futures[key] = future
        self._futures.move_to_end(key)
        while len(self._futures) > self._kept:
            self._futures.popitem(last=False)


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
