"""Warehouse folders made once per test run and copied by the tests that need them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def shared_template(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> Path:
    """A warehouse folder made once per run: by the first xdist worker that needs it, in the
    run's shared temporary folder (pytest-xdist's recipe), the others waiting on a lock."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # no xdist: this session's own folder
        home = tmp_path_factory.mktemp(name)
        _made(make, home)
        return home
    shared = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    home, done = shared / name, shared / f"{name}.loaded"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)  # a worker that failed midway
            _made(make, home)
            done.touch()
    return home


def _made(make: Callable[[Path], object], home: Path) -> None:
    """`make` the warehouse, then open and close it once more.

    Why: the checkpoint that closes a freshly bulk-loaded DuckDB file (the demo's) leaves
    it, at random (8 of 24 loads tried in one process; about half of the runs of five modules
    with -n 4), so that the next checkpoint after any change costs ~0.15-0.25 s of CPU, and
    opening through fakesnow always changes the catalog (its views and macros). Every copy
    would pay that at its first close, and hundreds of tests in a run close a fresh copy.
    One more open and close here pays it once, on the template; the copies then close in
    ~0.01 s. Nothing in the data or the schema changes."""
    from core.warehouse.embedded import EmbeddedWarehouse

    make(home)
    EmbeddedWarehouse(home).close()
