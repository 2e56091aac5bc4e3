"""The console: each recipient's reports printed as their Slack DMs would read, nothing recorded.

It is where `send-weekly` delivers without SLACK_BOT_TOKEN (and WEEKLY_REPORT_DELIVERY=console):
a preview, so it claims no run and writes no ledger row; the generation run is recorded by the
engine as always.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TextIO

from bot.channels.base import Channel, ChannelServices, Outcome, Parcel, Preview, Recipient
from bot.channels.slack_dm.render import slack_parent, slack_sections
from bot.text import slack_as_text
from core import Report, Week

RULE = "=" * 78


class Console(Channel):
    name = "console"
    records: bool = False

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
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
                print_report(self.out, report)
                outcome.delivered += 1
                outcome.messages += 1 + len(slack_sections(report))
        return outcome

    def preview(self, recipient: Recipient, kind: str, week: Week, report_ids: tuple[str, ...]) -> Preview:
        return Preview("the console", {report_id: "DM not sent" for report_id in report_ids})

    def _print(self, text: str) -> None:
        print(text, file=self.out)


def print_report(out: TextIO | None, report: Report) -> None:
    """A report's parent message, then its thread, as a terminal shows them."""
    print("\n" + slack_as_text(slack_parent(report)), file=out)
    for message in slack_sections(report):
        print("\n  ↳ in thread:", file=out)
        print(slack_as_text(message, indent="    "), file=out)


def open_channel(services: ChannelServices) -> Console:
    return Console(services.out)


__all__ = ["Console", "open_channel", "print_report"]
