"""Progress on long runs: a bar on a terminal, a line every 10 % elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream, width
        self.started = time.monotonic()
        self._last_decile = -1
        self._tty = stream.isatty()

    def __call__(self, done: int, total: int, item: str) -> None:
        if total <= 0:
            return
        if self._tty:
            filled = self.width * done // total
            bar = "█" * filled + "·" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {item:<14}")
            if done == total:
                self.stream.write(f" {time.monotonic() - self.started:.1f}s\n")
            self.stream.flush()
            return
        decile = 10 * done // total
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(f"{self.label}: {done}/{total} ({100 * done // total}%)\n")
            self.stream.flush()
