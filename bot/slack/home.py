"""The App Home tab: the person's customers with their latest report, the next scheduled run
(in the CSM's own timezone, bot.schedule) or their pause, and where their weekly reports go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient

from bot.schedule import next_coaching_run, next_run
from bot.services import Services
from bot.slack.identity import People, Person
from bot.slack.replies import COMMAND, channel_words, coaching_when, escape
from bot.slack.rollup import FLAGS
from core import Assignment, Pause, Preferences, Settings, channels_for
from core.errors import InputError
from core.rollup import LatestReport, latest_reports

MAX_BLOCKS = 100
MAX_CUSTOMERS = 90  # one block each, leaving room for the header, intro and footer
LOOKBACK_WEEKS = 4  # how far back "latest report" looks


class HomeTab:
    """Publishes a person's App Home: `app_home_opened` -> `views.publish`."""

    def __init__(self, services: Services, people: People) -> None:
        self.services, self.people = services, people

    def publish(self, client: WebClient, user_id: str) -> None:
        person = self.people.person(client, user_id)
        customers = self.people.customers_of(person)
        latest = self._latest([a.customer_id for a in customers[:MAX_CUSTOMERS]])
        settings = self.services.settings
        pause, channels = None, None
        if person.requester.csm_id is not None:
            preferences = Preferences(self.services.engine.warehouse, settings.current_date)
            pause = preferences.pause_of(person.requester.csm_id)
            email = preferences.email_choice(person.requester.csm_id)
            channels = channels_for(settings.delivery or ("slack",), email)
        fire = next_run(settings, customers)
        view = home_view(person, customers, latest, fire, settings, pause, channels)
        coaching = self._coaching(person)
        if coaching is not None:  # after the intro: reps and managers are seldom CSMs
            view["blocks"].insert(2, _section(coaching))
            view["blocks"] = view["blocks"][:MAX_BLOCKS]
        client.views_publish(user_id=user_id, view=view)

    def _coaching(self, person: Person) -> str | None:
        """The sales-coaching line, for those with reviews open to them (reps, managers, admins)."""
        role = self.people.coaching_role(person)
        if role is None:
            return None
        what = {
            "rep": f"`{COMMAND} coaching` DMs you your latest review",
            "manager": f"`{COMMAND} coaching REP001` DMs you a review of one of your team",
            "admin": f"`{COMMAND} coaching REP001` DMs you any rep's review",
        }[role]
        when = coaching_when(next_coaching_run(self.services.settings))
        return f"*Sales-coaching reviews:* {what}; the next ones go out by email and DM {when}."

    def _latest(self, customer_ids: Sequence[str]) -> dict[str, LatestReport]:
        """customer id -> its newest report within LOOKBACK_WEEKS, with its health verdict."""
        engine = self.services.engine
        try:
            week = engine.week()
        except InputError:
            return {}  # no data in the warehouse yet
        return latest_reports(engine.warehouse, customer_ids, week, LOOKBACK_WEEKS)


def home_view(
    person: Person,
    customers: Sequence[Assignment],
    latest: dict[str, LatestReport],
    fire: dt.datetime | None,
    settings: Settings,
    pause: Pause | None = None,
    channels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`channels`: where a CSM's weekly reports go (None: not a CSM, nothing to show)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly reports"}},
        _section(_intro(person, len(customers))),
    ]
    if not customers:
        return {"type": "home", "blocks": blocks}
    blocks.append(_section(_schedule(fire, settings, pause)))
    if channels is not None:
        blocks.append(_section(_channels(channels)))
    blocks.append({"type": "divider"})
    shown = list(customers)[:MAX_CUSTOMERS]
    blocks += [_section(_customer_line(a, latest.get(a.customer_id))) for a in shown]
    if len(customers) > len(shown):
        blocks.append(_section(f"…and {len(customers) - len(shown)} more customers."))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Get a report now: `{COMMAND} CUST_12345`, or `{COMMAND} all` for every customer. "
                    "Reply in a report's thread to ask a follow-up.",
                }
            ],
        }
    )
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _intro(person: Person, count: int) -> str:
    if person.is_csm:
        who = f"Hi {escape(person.name or '')}. You are CSM {person.requester.csm_id} with {count} customers."
    elif person.requester.is_admin:
        who = f"You are an admin: reports for all {count} customers are open to you."
    else:
        return "You are not a CSM in csm_assignments, so no customer reports are available to you."
    return who + " Each Monday their reports arrive in your DMs with me."


def _schedule(fire: dt.datetime | None, settings: Settings, pause: Pause | None = None) -> str:
    if pause is not None:
        return (
            f"*Monday DMs {pause.describe()}.* Reports on request still work; "
            f"`{COMMAND} resume` restarts the Monday DMs."
        )
    if fire is None:
        return "*Next scheduled delivery:* none (the schedule never fires)."
    zone = getattr(fire.tzinfo, "key", None) or settings.timezone
    return f"*Next scheduled delivery:* {fire:%A, %B} {fire.day} at {fire:%H:%M} ({zone})"


def _channels(channels: Sequence[str]) -> str:
    email = "off" if "email" in channels else "on"
    return (
        f"*Your weekly reports come by:* {channel_words(channels)}. "
        f"`{COMMAND} email {email}` turns the email {email}."
    )


def _customer_line(a: Assignment, latest: LatestReport | None) -> str:
    head = f"*{escape(a.customer_name)}* `{a.customer_id}`"
    if latest is None:
        return f"{head}\nNo report in the last {LOOKBACK_WEEKS} weeks."
    status = latest.status
    mark = {"complete": ":white_check_mark:", "partial": ":warning:", "failed": ":x:"}.get(status, "")
    line = f"{head}\nWeek of {latest.week.label()}: {status.replace('_', ' ')} {mark}".rstrip()
    if latest.headline is not None:  # the verdict stored with the report (core.health)
        h = latest.headline
        line += f"\n{FLAGS.get(h.health, '')} Account health: *{escape(h.health_line)}*".replace("\n ", "\n")
    return line


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
