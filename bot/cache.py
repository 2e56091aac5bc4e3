"""A small thread-safe map whose entries expire (identity lookups, event dedupe), and per-key locks."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """At most `max_items` entries, each forgotten `ttl` seconds after it was stored."""

    def __init__(
        self, ttl: float, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_items, self._clock = ttl, max_items, clock
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            self._expire()
            entry = self._items.get(key)
            return None if entry is None else entry[1]

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._store(key, value)
        return value

    def add(self, key: Hashable, value: V) -> bool:
        """Store `value` unless `key` is present; True when it was new."""
        with self._lock:
            self._expire()
            if key in self._items:
                return False
            self._store(key, value)
            return True

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def _store(self, key: Hashable, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (self._clock() + self.ttl, value)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def _expire(self) -> None:
        now = self._clock()
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now:
                break
            del self._items[key]


class KeyedLocks:
    """One lock per key, existing only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
