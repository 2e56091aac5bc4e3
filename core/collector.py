"""Keeping Python's cyclic garbage collector off long-lived objects, for the whole process.

`gc.freeze()` and `gc.disable()` act on the whole process, and more than one user may hold
them at once: the bot freezes what it built at start-up for as long as it runs, and a large
`generate` inside it freezes its run's data until the run ends. Each use is counted here, so
the first to end does not undo the others': objects return to the collector when the last
freeze ends, and the collector runs again when the last pause ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_freezes = 0
_pauses = 0
_enabled_before_pause = True


def freeze() -> None:
    """Move every object tracked so far out of the collector's sight, until `thaw()`.

    Frozen objects are still freed by reference counting; a full collection no longer walks
    them (nor stops every thread for as long as that takes).
    """
    global _freezes
    with _lock:
        gc.freeze()
        _freezes += 1


def thaw() -> None:
    """End one `freeze()`; when no other is held, frozen objects return to the collector.

    Objects left frozen are never collected, and native bindings report them as leaks at exit.
    """
    global _freezes
    with _lock:
        if _freezes == 0:
            raise RuntimeError("collector.thaw() without a matching freeze()")
        _freezes -= 1
        if _freezes == 0:
            gc.unfreeze()


def freezes() -> int:
    """How many freezes are held (for tests and diagnostics)."""
    with _lock:
        return _freezes


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off for the block; back to its state before the first open pause
    when the last one ends."""
    global _pauses, _enabled_before_pause
    with _lock:
        if _pauses == 0:
            _enabled_before_pause = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _enabled_before_pause:
                gc.enable()
