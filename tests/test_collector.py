"""The process-wide garbage-collector holds: one user's end does not undo another's."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from core import collector
from core.engine import _long_lived


@pytest.fixture(autouse=True)
def collector_untouched() -> Iterator[None]:
    """Each test starts and must end with no freeze held and the collector on."""
    assert collector.freezes() == 0 and gc.get_freeze_count() == 0 and gc.isenabled()
    yield
    left = (collector.freezes(), gc.get_freeze_count(), gc.isenabled())
    while collector.freezes():  # put things back first, so one failure does not spread
        collector.thaw()
    gc.unfreeze()
    gc.enable()
    assert left == (0, 0, True), "a test left a freeze held or the collector off"


def test_frozen_objects_return_only_when_the_last_freeze_ends() -> None:
    collector.freeze()
    collector.freeze()
    assert gc.get_freeze_count() > 0
    collector.thaw()
    assert collector.freezes() == 1
    assert gc.get_freeze_count() > 0, "the first thaw must not unfreeze the other holder's objects"
    collector.thaw()
    assert gc.get_freeze_count() == 0


def test_a_thaw_without_a_freeze_is_refused() -> None:
    with pytest.raises(RuntimeError, match="without a matching freeze"):
        collector.thaw()


def test_a_large_run_inside_the_bot_leaves_the_bots_freeze_in_place() -> None:
    collector.freeze()  # what BotRunner.start does
    try:
        with _long_lived(lambda: [object() for _ in range(1_000)]) as data:
            assert len(data) == 1_000
            assert gc.isenabled(), "the collector is off only while the data loads"
            assert collector.freezes() == 2
        assert gc.isenabled()
        assert collector.freezes() == 1
        assert gc.get_freeze_count() > 0, "the run's end unfroze the bot's start-up objects"
    finally:
        collector.thaw()  # what BotRunner.stop does


def test_a_failed_load_turns_the_collector_back_on_and_holds_nothing() -> None:
    def failing() -> list[object]:
        raise ValueError("warehouse gone")

    with pytest.raises(ValueError), _long_lived(failing):
        pass
    assert collector.freezes() == 0


def test_overlapping_pauses_turn_the_collector_on_after_the_last() -> None:
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pauses_from_two_threads_interleaved() -> None:
    """Thread A pauses, B pauses, A ends first: the collector stays off until B ends."""
    a_paused, a_done, b_paused = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector.paused():
            a_paused.set()
            b_paused.wait(5)
        a_done.set()

    def second() -> None:
        a_paused.wait(5)
        with collector.paused():
            b_paused.set()
            a_done.wait(5)
            seen["after A ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after A ended": False}
