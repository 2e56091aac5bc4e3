"""Requests in, work out.

Every request is checked in the listener, before anything is queued or written: who is
asking, and may they see that customer (the cached roster may say yes at once; anything
else, refusals included, the engine decides). The slow part then runs on the bot's worker
pool, never on Bolt's threads, and starts by asking the engine again: authorisation is
always the engine's (`targets`, `authorize`, `ask`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import Poster, deliver
from bot.schedule import next_coaching_run, next_run
from bot.services import Services
from bot.slack.answers import AnswerDesk
from bot.slack.coaching import CoachingDesk
from bot.slack.identity import People
from bot.slack.replies import (
    COMMAND,
    channel_words,
    coaching_when,
    escape,
    help_text,
    tell,
    working_on,
)
from bot.slack.requests import Coaching, EmailChoice, Help, OneReport, Pause, Request, Resume
from core import Preferences, Requester, Target, channels_for, on_demand_recipient
from core.errors import InputError, NotAuthorized, UnknownCustomer

log = logging.getLogger("weekly_report.bot")
NOT_A_CSM = "you are not a CSM in csm_assignments, so no customer reports are available to you"

# Says something to the person where they asked (an ephemeral response, a DM, a thread);
# returns the ts of what was posted when there is one.
Say = Callable[[str], str | None]


@dataclass(frozen=True)
class Plan:
    """A checked request: what to tell the person now, and what to generate and send."""

    note: str
    requester: Requester | None = None  # None: nothing to generate
    customer_id: str | None = None  # None: the whole portfolio (a coaching plan: the rep)
    refresh: bool = False
    kind: str = "ebr"  # the report kind to send: "coaching" for a sales-coaching review


class Desk:
    """Checks requests and queues their work: reports to generate and DM, questions to answer."""

    def __init__(self, services: Services, people: People) -> None:
        self.services, self.people = services, people
        self.engine = services.engine
        self.coaching = CoachingDesk(services, people)
        self.answers = AnswerDesk(services, people, streaming=services.settings.slack_streaming)

    # -- requests for reports ------------------------------------------------------------

    def plan(self, client: WebClient, user_id: str, request: Request) -> Plan:
        """Check `request` for `user_id`; raises a domain error when it must be refused.

        This runs before the ack, so it avoids the warehouse when it can: what the cached
        roster allows is accepted at once (the engine checks again before generating);
        anything else is for the engine to decide now, refusals included.
        """
        person = self.people.person(client, user_id)
        if isinstance(request, Help):
            customers = self.people.customers_of(person)
            coaching, role = self._coaching_when(), None
            if coaching is not None and not customers and not person.requester.is_admin:
                role = self.people.coaching_role(person)  # what help offers someone with no customers
            return Plan(help_text(request.problem, customers, person.requester.is_admin, coaching, role))
        if isinstance(request, Pause | Resume):
            return Plan(self._pause_or_resume(person.requester, request, user_id))
        if isinstance(request, EmailChoice):
            return Plan(self._email(person.requester, request, user_id))
        if isinstance(request, Coaching):
            rep_id, note = self.coaching.check(person, request)
            if rep_id is None:
                return Plan(note)  # a manager shown their team: nothing to send
            return Plan(note, person.requester, rep_id, kind="coaching")
        customer_id = request.customer_id if isinstance(request, OneReport) else None
        targets = self.people.known_targets(person, customer_id)
        if targets is None:
            targets = self._targets(person.requester, customer_id)
        log.info(
            "%s asked for %s%s", user_id, customer_id or "their portfolio", " (refresh)" * request.refresh
        )
        names = [self.people.customer_name(t.customer_id) or t.customer_id for t in targets]
        if len(targets) == 1:
            names = [f"{names[0]} ({targets[0].customer_id})"]
        return Plan(working_on(names, request.refresh), person.requester, customer_id, request.refresh)

    def request(self, client: WebClient, user_id: str, request: Request, say: Say) -> None:
        """A request made in a conversation (a DM, a mention): answer there, queue the work."""
        try:
            plan = self.plan(client, user_id, request)
        except Exception as exc:
            say(tell(exc))
            return
        say(plan.note)
        self.send(client, plan, user_id, say)

    def send(self, client: WebClient, plan: Plan, user_id: str, say: Say) -> None:
        """Queue generation and delivery of a plan's reports to `user_id`."""
        if plan.requester is None:
            return
        try:
            self.services.workers.submit(
                f"reports for {user_id}",
                lambda: self._generate_and_deliver(client, plan, user_id, say),
                on_error=lambda exc: say(tell(exc)),
            )
        except Exception as exc:
            say(tell(exc))

    def _targets(self, requester: Requester, customer_id: str | None) -> list[Target]:
        if requester.is_admin:
            targets = self.engine.targets(None, customer_id)
        elif requester.csm_id is not None:
            targets = self.engine.targets(requester.csm_id, customer_id)
        else:
            if customer_id is not None:
                self.engine.authorize(requester, customer_id)  # says why: unknown, or not a CSM
            raise NotAuthorized(NOT_A_CSM)
        if not targets:
            what = f"{customer_id} has no CSM" if customer_id else "no customer has a CSM"
            raise UnknownCustomer(f"{what} in csm_assignments yet, so there is no report to send")
        return targets

    def _generate_and_deliver(self, client: WebClient, plan: Plan, user_id: str, say: Say) -> None:
        assert plan.requester is not None
        if plan.kind == "coaching":
            assert plan.customer_id is not None
            self.coaching.deliver(client, plan.requester, plan.customer_id, user_id, say)
            return
        engine, workers = self.engine, self.services.workers
        targets = self._targets(plan.requester, plan.customer_id)  # the engine's word, before any write
        week = engine.week()
        if len(targets) == 1:
            # Concurrent requests for one report wait for the first instead of generating it again.
            with workers.exclusive(f"generate {targets[0].customer_id} {week}"):
                run = engine.generate(targets, week, refresh=plan.refresh, trigger="command")
        else:
            run = engine.generate(targets, week, refresh=plan.refresh, trigger="command")
        log.info(
            "run %s for %s: %d generated, %d reused, %d failed in %.1fs",
            run.run_id, user_id, run.reports_generated, run.reports_reused, run.reports_failed, run.seconds,
        )  # fmt: skip
        for note in run.kept:  # the refresh did not complete: the stored complete report stays
            say(f":information_source: {escape(note)}")
        failures = []
        poster = Poster(client, self.services.pacer)
        for target in targets:
            report = run.reports.get(target.subject_id) or engine.store.load(target.subject_id, week)
            recipient = on_demand_recipient(user_id)
            sent = deliver(
                client, self.services.deliveries, report, user_id, recipient,
                poster=poster, charts=self.services.settings.charts,
            )  # fmt: skip
            if not sent.ok:
                failures.append(f"{target.customer_id} ({sent.error})")
        if failures:
            say(f":warning: I could not DM you the report for {escape(', '.join(failures))}.")

    def _coaching_when(self) -> str | None:
        """When the coaching reviews next go out; None when this bot has none."""
        if "coaching" not in self.services.engines:
            return None
        return coaching_when(next_coaching_run(self.services.settings))

    # -- pausing the Monday DMs ------------------------------------------------------------

    def _pause_or_resume(self, requester: Requester, request: Pause | Resume, user_id: str) -> str:
        """Pause or resume the requester's own Monday DMs; the confirmation to show them."""
        if requester.csm_id is None:
            raise NotAuthorized(f"{NOT_A_CSM}, so there are no Monday DMs to pause or resume")
        settings = self.services.settings
        preferences = Preferences(self.engine.warehouse, settings.current_date)
        if isinstance(request, Pause):
            pause = preferences.pause(requester.csm_id, request.until, by=user_id)
            log.info("%s (%s) %s their Monday DMs", user_id, requester.csm_id, pause.describe())
            back = f"until {pause.until:%A, %B} {pause.until.day}" if pause.until else "until you resume them"
            return (
                f":double_vertical_bar: Your Monday report DMs are paused {back}. Reports on request still "
                f"work (`{COMMAND} CUST_12345`); send `resume` (or `{COMMAND} resume`) to restart them."
            )
        resumed = preferences.resume(requester.csm_id, by=user_id)
        mine = [a for a in self.people.roster() if a.csm_id == requester.csm_id]
        fire = next_run(settings, mine)
        when = f"{fire:%A, %B} {fire.day} at {fire:%H:%M} ({fire.tzinfo})"
        if not resumed:
            return f"Your Monday report DMs were not paused. The next one comes {when}."
        log.info("%s (%s) resumed their Monday DMs", user_id, requester.csm_id)
        return f":arrow_forward: Your Monday report DMs are back on. The next one comes {when}."

    # -- the weekly email -------------------------------------------------------------------

    def _email(self, requester: Requester, request: EmailChoice, user_id: str) -> str:
        """Turn the requester's own weekly email on or off; the confirmation to show them."""
        if requester.csm_id is None:
            raise NotAuthorized(
                "you are not a CSM in csm_assignments, so no weekly reports of yours go by email"
            )
        settings = self.services.settings
        if request.on and settings.chosen_email_provider == "console" and not settings.email_provider:
            # No provider: the emails would only be printed in the bot's log. Say so, change nothing.
            raise InputError(
                "email is not set up for this bot yet (no SMTP_HOST, SENDGRID_API_KEY or AWS SES keys), "
                "so your weekly reports cannot come by email; ask an admin to configure a provider"
            )
        Preferences(self.engine.warehouse, settings.current_date).set_email(
            requester.csm_id, request.on, by=user_id
        )
        log.info(
            "%s (%s) turned their weekly email %s", user_id, requester.csm_id, "on" if request.on else "off"
        )
        where = channels_for(settings.delivery or ("slack",), request.on)
        if not where:
            return (
                f":warning: Your weekly reports are now off: WEEKLY_REPORT_DELIVERY sends them only by email. "
                f"`{COMMAND} email on` brings them back."
            )
        address = next((a.csm_email for a in self.people.roster() if a.csm_id == requester.csm_id), None)
        to = f" to {escape(address)}" if request.on and address else ""
        mark = ":email:" if request.on else ":no_bell:"
        return (
            f"{mark} Your weekly reports {'now come by email' + to if request.on else 'no longer come by email'}. "
            f"They come by {channel_words(where)}; `{COMMAND} email {'off' if request.on else 'on'}` changes it."
        )

    # -- follow-up questions -------------------------------------------------------------

    def follow_up(
        self,
        client: WebClient,
        user_id: str,
        channel: str,
        thread_ts: str,
        question: str,
        team_id: str | None = None,
    ) -> None:
        """A reply in a thread: answered in that thread when it is a report's (bot/slack/answers.py)."""
        self.answers.follow_up(client, user_id, channel, thread_ts, question, team_id)
