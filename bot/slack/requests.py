"""What a person asked for, parsed from the text of `/weekly-report ...`, a DM or a mention.

    (empty) | help                 -> Help
    CUST_12345 [refresh]           -> OneReport      ("report CUST_12345" works too)
    all [refresh]                  -> Portfolio
    anything else                  -> Help, with what was wrong

Parsing is pure: no lookups, nothing written. Whether the person may see the customer is
decided later, by the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core import validate_customer_id
from core.errors import InvalidCustomerId

EXAMPLE = "CUST_12345"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True)
class OneReport:
    customer_id: str
    refresh: bool = False


@dataclass(frozen=True)
class Portfolio:
    refresh: bool = False


Request = Help | OneReport | Portfolio


def parse(text: str | None) -> Request:
    words = (text or "").split()
    if words and words[0].lower() == "report":
        words = words[1:]
    if not words or (len(words) == 1 and words[0].lower() in ("help", "?")):
        return Help()
    refresh = len(words) == 2 and words[1].lower() == "refresh"
    if len(words) > 2 or (len(words) == 2 and not refresh):
        return Help(f"I didn't understand “{quoted(text or '')}”.")
    if words[0].lower() == "all":
        return Portfolio(refresh)
    try:
        return OneReport(validate_customer_id(words[0]), refresh)
    except InvalidCustomerId as exc:
        return Help(_sentence(str(exc)))


def without_mentions(text: str | None) -> str:
    """A mention's text without the `<@U123>` parts."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def quoted(text: str, limit: int = 60) -> str:
    """User input echoed back: one line, cut short."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
