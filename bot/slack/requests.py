"""What a person asked for, parsed from the text of `/weekly-report ...`, a DM or a mention.

    (empty) | help                 -> Help
    CUST_12345 [refresh]           -> OneReport      ("report CUST_12345" works too)
    all [refresh]                  -> Portfolio
    pause [until] [YYYY-MM-DD]     -> Pause          (the Monday DMs; on-demand still works)
    resume                         -> Resume
    email on|off                   -> EmailChoice    (the weekly reports by email, or not)
    coaching [REP001]              -> Coaching       (the latest sales-coaching review: one's own, or a rep's)
    anything else                  -> Help, with what was wrong

Parsing is pure: no lookups, nothing written. Whether the person may see the customer is
decided later, by the engine.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core import parse_until, validate_customer_id
from core.errors import InputError, InvalidCustomerId
from core.kinds.coaching.scope import COACHING_SCOPE

EXAMPLE = "CUST_12345"
REP_ID = re.compile(COACHING_SCOPE.id_pattern)  # a rep's speaker id, as the coaching guard knows it
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


@dataclass(frozen=True)
class Pause:
    until: dt.date | None = None


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class EmailChoice:
    on: bool


@dataclass(frozen=True)
class Coaching:
    rep_id: str | None = None  # None: the requester's own


Request = Help | OneReport | Portfolio | Pause | Resume | EmailChoice | Coaching


def parse(text: str | None) -> Request:
    words = (text or "").split()
    if words and words[0].lower() == "report":
        words = words[1:]
    if not words or (len(words) == 1 and words[0].lower() in ("help", "?")):
        return Help()
    if words[0].lower() in ("pause", "resume"):
        return _pause_or_resume(words, text or "")
    if words[0].lower() == "email":
        return _email(words, text or "")
    if words[0].lower() == "coaching":
        return _coaching(words, text or "")
    refresh = len(words) == 2 and words[1].lower() == "refresh"
    if len(words) > 2 or (len(words) == 2 and not refresh):
        return Help(f"I didn't understand “{quoted(text or '')}”.")
    if words[0].lower() == "all":
        return Portfolio(refresh)
    try:
        return OneReport(validate_customer_id(words[0]), refresh)
    except InvalidCustomerId as exc:
        return Help(_sentence(str(exc)))


def _pause_or_resume(words: list[str], text: str) -> Request:
    """`pause`, `pause until DATE`, `pause DATE`, `resume`."""
    verb, rest = words[0].lower(), words[1:]
    if verb == "resume":
        return Resume() if not rest else Help(f"I didn't understand “{quoted(text)}”; send just `resume`.")
    if rest and rest[0].lower() == "until":
        rest = rest[1:]
    if not rest:
        return Pause()
    if len(rest) == 1:
        try:
            return Pause(parse_until(rest[0]))
        except InputError as exc:
            return Help(_sentence(str(exc)))
    return Help(f"I didn't understand “{quoted(text)}”; try `pause` or `pause until 2026-12-01`.")


def _email(words: list[str], text: str) -> Request:
    """`email on`, `email off`."""
    if len(words) == 2 and words[1].lower() in ("on", "off"):
        return EmailChoice(words[1].lower() == "on")
    return Help(f"I didn't understand “{quoted(text)}”; send `email on` or `email off`.")


def _coaching(words: list[str], text: str) -> Request:
    """`coaching`, `coaching REP001`."""
    if len(words) == 1:
        return Coaching()
    if len(words) == 2 and REP_ID.fullmatch(words[1].upper()):
        return Coaching(words[1].upper())
    if len(words) == 2:
        return Help(f"“{quoted(words[1])}” is not a rep id such as REP001.")
    return Help(
        f"I didn't understand “{quoted(text)}”; send `coaching` for your own review, or `coaching REP001`."
    )


def without_mentions(text: str | None) -> str:
    """A mention's text without the `<@U123>` parts."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def quoted(text: str, limit: int = 60) -> str:
    """User input echoed back: one line, cut short."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
