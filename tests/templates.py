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
    """A folder made once per run: by the first xdist worker that needs it, in the run's shared
    temporary folder (pytest-xdist's recipe), the others waiting on a lock."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # no xdist: this session's own folder
        home = tmp_path_factory.mktemp(name)
        make(home)
        return home
    shared = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    home, done = shared / name, shared / f"{name}.loaded"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)  # a worker that failed midway
            make(home)
            done.touch()
    return home
