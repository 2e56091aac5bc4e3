"""An answer printed on a terminal while the agent makes it (`weekly-report ask` on a TTY).

What the agent is doing shows on one status line of stderr, replaced as it changes and
cleared when the text begins; the text goes to stdout as it arrives (only guard-cleared
text reaches a listener through ReportEngine.ask). If the answer is withheld after some
text went out, `retract` erases that text, so the refusal replaces it as in Slack.
"""

from __future__ import annotations

import shutil
from typing import TextIO


class TerminalAnswer:
    """An AnswerListener that prints to a terminal."""

    def __init__(self, out: TextIO, status_out: TextIO) -> None:
        self.out, self.status_out = out, status_out
        self.printed = ""
        self._status_shown = False

    def status(self, phase: str, message: str = "") -> None:
        if self.printed:
            return  # the text is under way: no status line in the middle of it
        line = f"({phase}{': ' + message if message else ''}…)"
        self.status_out.write("\r\x1b[K" + line[: _width() - 1])
        self.status_out.flush()
        self._status_shown = True

    def text(self, delta: str) -> None:
        self._clear_status()
        self.out.write(delta)
        self.out.flush()
        self.printed += delta

    def finish(self, text: str) -> None:
        """The answer is complete: print what of `text` has not been printed, and end the line.
        (If the agent's final text does not continue what was printed, it is printed anew.)"""
        self._clear_status()
        if self.printed and not text.startswith(self.printed):
            self.retract()
        self.out.write(text[len(self.printed) :] + "\n")
        self.out.flush()
        self.printed = text

    def retract(self) -> None:
        """Erase the text printed so far (and the status line)."""
        self._clear_status()
        if not self.printed:
            return
        width = _width()
        rows = sum(max(1, -(-len(line) // width)) for line in self.printed.split("\n"))
        # To the start of the first printed row, then clear to the end of the screen.
        self.out.write("\r" + (f"\x1b[{rows - 1}F" if rows > 1 else "") + "\x1b[J")
        self.out.flush()
        self.printed = ""

    def _clear_status(self) -> None:
        if self._status_shown:
            self.status_out.write("\r\x1b[K")
            self.status_out.flush()
            self._status_shown = False


def _width() -> int:
    return max(shutil.get_terminal_size((80, 24)).columns, 20)
