"""Deterministic draws: the same keys give the same number in every process and Python version.

`unit` serves the per-customer choices made in Python; `sql_unit` writes the DuckDB
expression for the per-row noise, so the daily rows never pass through Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

SEED = 20_241_118
_TWO_53 = 9_007_199_254_740_992


def unit(*keys: object) -> float:
    """A uniform draw in [0, 1) keyed by `keys`."""
    digest = hashlib.blake2b(repr((SEED, *keys)).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _TWO_53


def pick(options: Sequence[T], u: float) -> T:
    """The option that the uniform draw `u` falls on."""
    return options[min(int(u * len(options)), len(options) - 1)]


def sql_unit(*keys: str) -> str:
    """SQL for a uniform draw in [0, 1) keyed by the SQL expressions `keys`.

    DuckDB's hash() is a pure function of its arguments, but it combines them by XOR, so
    draws that differ only in one key would be related: hashing the result again mixes
    them apart. Keeping the top 53 bits makes the double exact, so it is never 1.0.
    """
    return f"((hash(hash({SEED}, {', '.join(keys)})) >> 11)::DOUBLE / {_TWO_53}.0)"
