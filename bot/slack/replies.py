"""What the bot says: help, notes on what happens next, answers, and errors as one line.

`user_message()` is the one place a domain error becomes what the person reads. Everything
here is Slack mrkdwn: text that came from people or the warehouse is escaped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from bot.mrkdwn import SlackMessage, mrkdwn, split_text
from core import Assignment, WeeklyReportError, render_template
from core.errors import InputError, NotAuthorized

log = logging.getLogger("weekly_report.bot")

COMMAND = "/weekly-report"
HELP_CUSTOMERS = 40  # customers listed in help; an admin's list would otherwise run long
LOOKING_INTO_IT = "Looking into it…"
NOT_A_REPORT_THREAD = (
    "This thread is not one of my reports, so I have nothing to answer from. "
    f"Send `CUST_12345` (or use `{COMMAND} CUST_12345`) for a report, then reply in its thread."
)
# How each delivery channel reads in a sentence ("Your weekly reports come by ...").
CHANNEL_WORDS = {"slack": "Slack DM", "email": "email", "console": "the console"}
UNEXPECTED = "Something went wrong on my side and it has been logged. Please try again in a few minutes."


def escape(text: str) -> str:
    """Text as mrkdwn shows it literally: only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def help_text(
    problem: str | None,
    customers: Sequence[Assignment],
    is_admin: bool,
    coaching: str | None = None,
    coaching_role: str | None = None,
) -> str:
    """Usage, the person's customers; `coaching`: when the coaching reviews go out (None: this
    bot has no coaching reviews, and help says nothing of them); `coaching_role`: "rep" or
    "manager" for someone with sales-coaching reviews (People.coaching_role)."""
    shown = list(customers)[:HELP_CUSTOMERS]
    return render_template(
        "slack/help.md.j2",
        problem=escape(problem) if problem else None,
        command=COMMAND,
        customers=[{"name": escape(a.customer_name), "customer_id": a.customer_id} for a in shown],
        more=len(customers) - len(shown),
        is_admin=is_admin,
        coaching=coaching,
        coaching_role=coaching_role,
    )


def coaching_when(fire: dt.datetime | None) -> str:
    """When the coaching reviews next go out, as help and App Home say it (`fire`: in UTC)."""
    if fire is None:
        return "never (WEEKLY_REPORT_COACHING_SCHEDULE never fires)"
    return f"on {fire:%A, %B} {fire.day} at {fire:%H:%M} UTC"


def channel_words(names: Sequence[str]) -> str:
    """Channel names as a sentence reads them: "Slack DM and email"."""
    words = [CHANNEL_WORDS.get(n, n) for n in names]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words) or "no channel"


def working_on(names: Sequence[str], refresh: bool) -> str:
    """The note saying what happens next, for one report or a portfolio."""
    how = "Regenerating" if refresh else "Preparing"
    if len(names) == 1:
        return (
            f"{how} the weekly report for *{escape(names[0])}*. It will arrive in your DMs with me "
            "in a moment; reply in its thread to ask a follow-up."
        )
    return (
        f"{how} {len(names)} weekly reports, one per customer. Each arrives in your DMs with me "
        "as its own thread; reply in a thread to ask about that customer."
    )


def user_message(exc: BaseException) -> str:
    """The one line a person reads when their request failed."""
    if isinstance(exc, NotAuthorized):
        return f":no_entry: Sorry, {escape(_sentence(str(exc), capital=False))}"
    if isinstance(exc, WeeklyReportError):
        return f":warning: {escape(_sentence(str(exc)))}"
    return f":warning: {UNEXPECTED}"


def tell(exc: BaseException) -> str:
    """Log a failed request the way its kind deserves, and return the line for the person."""
    if isinstance(exc, InputError | NotAuthorized):
        log.info("refused: %s", exc)
    elif isinstance(exc, WeeklyReportError):
        log.warning("%s: %s", type(exc).__name__, exc)
    else:
        log.error("unexpected error handling a request", exc_info=exc)
    return user_message(exc)


def answer_messages(markdown_text: str) -> list[SlackMessage]:
    """An agent answer (Markdown) as thread messages, each within Slack's block limits."""
    chunks = split_text(mrkdwn(markdown_text)) or ["(the agent returned an empty answer)"]
    return [SlackMessage(c, [{"type": "section", "text": {"type": "mrkdwn", "text": c}}]) for c in chunks]


def _sentence(text: str, capital: bool = True) -> str:
    first = text[:1].upper() if capital else text[:1]
    return first + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")
