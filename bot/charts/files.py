"""A report's charts as image files: the one list every channel shows (Slack thread uploads,
email CID images, the console's chart folder), named the same everywhere.

A chart's file name names its report and chart (`CUST_12345-20261109-revenue-trend.png`):
Slack keeps it with the upload, and a file share carries no message metadata, so that name
is how a resumed delivery tells which charts its thread already has.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
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
        """The chart rendered (vl-convert): a few tens of milliseconds, so only when sent, and
        once for a report that goes both to Slack and by email (the same spec is remembered)."""
        return _png(json.dumps(self.chart.spec, sort_keys=True, default=str), self.chart)


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


@lru_cache(maxsize=RENDERED_KEPT)
def _png(spec: str, chart: Chart) -> bytes:
    """Keyed by the spec's JSON (a spec is a dict, not hashable); `chart` rides along unhashed."""
    return render_png(chart)


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
