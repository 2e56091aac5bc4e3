"""Simulated time for code that takes a clock and a sleep: sleeping moves the clock on."""

from __future__ import annotations


class SimulatedTime:
    """Call it for the time; `sleep` records each wait and moves the clock on at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
