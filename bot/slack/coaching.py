"""`/weekly-report coaching [REP001]`: a sales rep's latest coaching review, as a threaded DM.

Checked before the ack: who is asking (a rep asking for their own review, or anyone naming a
rep), and whether they may see that rep's reviews (a rep their own, a manager their team's,
an admin everyone's: the coaching engine's `authorize`, asked again before any work). The
work then runs on the bot's worker pool: the review of the last complete week when the rep
had calls in it (generated unless stored complete), else their latest stored one; it is
delivered as the EBR's are (parent message, sections in its thread), recorded in the ledger
under a key of its own, so a reply in its thread is a follow-up on that review.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot.channels.slack_dm.delivery import Poster, deliver
from bot.services import Services
from bot.slack.identity import People, Person
from bot.slack.replies import COMMAND, escape
from bot.slack.requests import Coaching
from core import Report, ReportEngine, Requester, last_complete_week, on_demand_recipient
from core.errors import InputError, NotAuthorized, ReportNotFound
from core.kinds import COACHING, Subject

log = logging.getLogger("weekly_report.bot")
NOT_A_REP = (
    "you are not a sales rep in COACHING.speakers (no company-side speaker has your email), so you have "
    f"no coaching review of your own; a manager or admin names the rep: `{COMMAND} coaching REP001`"
)
Say = Callable[[str], str | None]
TEAM_SHOWN = 40  # reps named in a manager's note (a long team would run off the message)


class CoachingDesk:
    """Checks `/weekly-report coaching` requests and delivers the review."""

    def __init__(self, services: Services, people: People) -> None:
        self.services, self.people = services, people

    @property
    def engine(self) -> ReportEngine:
        return self.services.engine_for(COACHING.name)

    def check(self, person: Person, request: Coaching) -> tuple[str | None, str]:
        """The rep whose review to send and the note saying so; raises when refused. A manager
        asking for no rep in particular is shown their team instead (no rep: nothing to send)."""
        engine = self.engine  # no coaching kind: a one-line InputError
        rep_id = request.rep_id
        if rep_id is None:
            rep = self.people.rep_of(person)
            if rep is None:
                manager_id = self.people.manager_of(person)
                if manager_id is None:
                    raise NotAuthorized(NOT_A_REP)
                return None, self._team_note(engine, manager_id)
            rep_id = rep.subject_id
        else:
            rep = self.people.reps().get(rep_id)
            if rep is None or not self._known_yes(person, rep):
                engine.authorize(person.requester, rep_id)  # unknown rep, or not theirs: says which
        name = rep.name if rep is not None else rep_id
        log.info("%s asked for the coaching review of %s", person.user_id, rep_id)
        note = (
            f"Getting the latest sales-coaching review of *{escape(name)}* ({rep_id}). It will arrive in your "
            "DMs with me in a moment; reply in its thread to ask a follow-up."
        )
        return rep_id, note

    def _known_yes(self, person: Person, rep: Subject) -> bool:
        """Whether the cached reps say at once that `person` may see `rep`'s reviews (an admin,
        the rep, or their manager); anything else is the engine's to decide, refusals included
        (it decides again before any work, as the EBR's requests do)."""
        mine = self.people.rep_of(person)
        if person.requester.is_admin or (mine is not None and mine.subject_id == rep.subject_id):
            return True
        return bool(rep.group) and self.people.manager_of(person) == rep.group

    @staticmethod
    def _team_note(engine: ReportEngine, manager_id: str) -> str:
        team = COACHING.team(engine.warehouse, manager_id)
        shown = ", ".join(f"{escape(r.name)} `{r.subject_id}`" for r in team[:TEAM_SHOWN])
        more = f" and {len(team) - TEAM_SHOWN} more" if len(team) > TEAM_SHOWN else ""
        return (
            f"Your team's sales-coaching reviews: `{COMMAND} coaching REP001` DMs you one. "
            f"Your reps: {shown}{more}."
        )

    def deliver(self, client: WebClient, requester: Requester, rep_id: str, user_id: str, say: Say) -> None:
        """On a worker: the engine checks again, then the review is found or made, and DMed."""
        engine = self.engine
        engine.authorize(requester, rep_id)  # the engine's word, before any write
        report, note = self._latest(engine, rep_id)
        if note:
            say(f":information_source: {escape(note)}")
        poster = Poster(client, self.services.pacer)
        sent = deliver(
            client, self.services.deliveries, report, user_id, on_demand_recipient(user_id), poster=poster
        )
        if not sent.ok:
            say(f":warning: I could not DM you the coaching review of {rep_id} ({escape(sent.error or '')}).")

    def _latest(self, engine: ReportEngine, rep_id: str) -> tuple[Report, str | None]:
        """The review to send, and a note when it is not the last complete week's."""
        week = last_complete_week(self.services.settings.current_date())
        targets = COACHING.active_targets(engine.warehouse, week, [rep_id])
        if targets:
            # Concurrent requests for one review wait for the first instead of generating it again.
            with self.services.workers.exclusive(f"generate {COACHING.name} {rep_id} {week}"):
                run = engine.generate(targets, week, trigger="command")
            return run.reports.get(rep_id) or engine.store.load(rep_id, week, COACHING.name), None
        try:
            report = engine.store.load(rep_id, None, COACHING.name)
        except ReportNotFound:
            raise InputError(
                f"{rep_id} had no calls between {week.start} and {week.end} and has no earlier coaching review"
            ) from None
        note = (
            f"{rep_id} had no calls in the week of {week.label()}; "
            f"this is their latest review, the week of {report.week.label()}."
        )
        return report, note
