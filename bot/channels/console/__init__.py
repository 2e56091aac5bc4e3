"""The console: each recipient's reports printed as their Slack DMs would read, nothing recorded.

It is where `send-weekly` delivers without SLACK_BOT_TOKEN (and WEEKLY_REPORT_DELIVERY=console):
a preview, so it claims no run and writes no ledger row; the generation run is recorded by the
engine as always.

With charts on (WEEKLY_REPORT_CHARTS), each report's chart images are saved as PNGs to a
folder (`<WEEKLY_REPORT_HOME>/charts`, see `charts_folder`) and shown in its thread as
`[image: title — alt text] <path>`, the way `weekly-report console` shows uploaded files, so
they can be looked at without a workspace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.channels.base import Channel, ChannelServices, Outcome, Parcel, Preview, Recipient
from bot.channels.slack_dm.delivery import CHARTS_AFTER_PART
from bot.channels.slack_dm.render import slack_parent, slack_sections
from bot.charts.files import ChartFile, save_charts
from bot.text import slack_as_text
from core import Report, Settings, Week

RULE = "=" * 78


class Console(Channel):
    name = "console"
    records: bool = False

    def __init__(self, out: TextIO | None = None, charts_dir: Path | None = None) -> None:
        self.out, self.charts_dir = out, charts_dir  # charts_dir None: no chart images
        self._lock = threading.Lock()  # one recipient's block at a time

    def deliver(self, parcel: Parcel, stopping: Callable[[], bool]) -> Outcome:
        person, outcome = parcel.recipient, Outcome()
        with self._lock:
            self._print(
                f"\n{RULE}\nMonday DMs for {person.name} <{person.email}> ({person.person_id})\n{RULE}"
            )
            for report in parcel.reports:
                if stopping():
                    break
                charts = print_report(self.out, report, self.charts_dir)
                outcome.delivered += 1
                outcome.messages += 1 + (1 if charts else 0) + len(slack_sections(report))
        return outcome

    def preview(self, recipient: Recipient, kind: str, week: Week, report_ids: tuple[str, ...]) -> Preview:
        return Preview("the console", {report_id: "DM not sent" for report_id in report_ids})

    def _print(self, text: str) -> None:
        print(text, file=self.out)


def print_report(out: TextIO | None, report: Report, charts_dir: Path | None = None) -> list[Path]:
    """A report's parent message, then its thread, as a terminal shows them; with `charts_dir`,
    its chart images saved there and shown after the first reply, as Slack gets them. Returns
    the images' paths."""
    print("\n" + slack_as_text(slack_parent(report)), file=out)
    saved = save_charts(report, charts_dir) if charts_dir is not None else []
    sections = slack_sections(report)
    for n, message in enumerate(sections, start=1):
        print("\n  ↳ in thread:", file=out)
        print(slack_as_text(message, indent="    "), file=out)
        if n == min(CHARTS_AFTER_PART, len(sections)):
            _print_images(out, saved)
    if not sections:
        _print_images(out, saved)
    return [path for _, path in saved]


def _print_images(out: TextIO | None, saved: list[tuple[ChartFile, Path]]) -> None:
    if saved:
        print("\n  ↳ in thread:", file=out)
        for f, path in saved:
            print(f"    [image: {f.title} — {f.alt_text}] {path}", file=out)


def charts_folder(settings: Settings) -> Path | None:
    """Where printed reports' chart images go: `<home>/charts`; None with charts off."""
    return settings.home / "charts" if settings.charts else None


def open_channel(services: ChannelServices) -> Console:
    return Console(services.out, charts_folder(services.settings))


__all__ = ["Console", "charts_folder", "open_channel", "print_report"]
