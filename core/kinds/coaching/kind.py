"""The sales-coaching review as a report kind: one review per rep per period, to the rep.

A rep is a company-side speaker of COACHING.speakers who is no speaker's manager (design
§10: manager_id is nullable). A rep without a manager is still a rep: their review has no
team averages and no manager name, and only they and admins may see it. A company-side
speaker whom some speaker names as manager_id is a manager, not a rep. Every statement
below tests this with IS_REP / R_IS_REP, set-based (one NOT IN subquery). Its facts are
core/kinds/coaching/facts.py's (seven set-based statements per run), its verdict
verdict.py's, its headline headline.py's, its sections and their text sections.py's, its
guard scope scope.py's; follow-up questions go to followup.py. Templates: templates/coaching/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from core.directory import Requester, shown
from core.errors import InputError, InvalidWeek, NotAuthorized, UnknownSubject
from core.kinds.base import LocalAnswer, ReportKind, Subject, Target
from core.kinds.coaching import followup
from core.kinds.coaching.facts import IN_RUN, CoachingFacts, RepFacts, load_facts
from core.kinds.coaching.headline import CoachingHeadline
from core.kinds.coaching.scope import COACHING_SCOPE
from core.kinds.coaching.sections import SECTIONS, review, section_sql, section_text
from core.kinds.coaching.suggestions import coaching_questions
from core.models import NO_DATA, Report
from core.settings import DEFAULT_COACHING_AGENT, Settings
from core.templating import render
from core.warehouse.base import COACHING as SCHEMA
from core.weeks import Week

if TYPE_CHECKING:
    from core.agent.base import AskContext
    from core.warehouse import Warehouse

SCOPE_TEMPLATE = "coaching/prompts/_scope.j2"
_REP_ID = re.compile(r"^REP\d{1,12}$")
# A rep: company-side and nobody's manager (manager_id itself may be NULL).
_MANAGER_IDS = f"SELECT x.manager_id FROM {SCHEMA}.speakers x WHERE x.manager_id IS NOT NULL"
IS_REP = f"company_side AND speaker_id NOT IN ({_MANAGER_IDS})"
R_IS_REP = f"r.company_side AND r.speaker_id NOT IN ({_MANAGER_IDS})"

REPS_SQL = f"SELECT speaker_id, name FROM {SCHEMA}.speakers WHERE {IS_REP} ORDER BY name, speaker_id"
PEOPLE_SQL = f"""
SELECT r.speaker_id AS rep_id, r.name, r.email, r.slack_user_id, r.manager_id, m.name AS manager_name,
       m.email AS manager_email
FROM {SCHEMA}.speakers r LEFT JOIN {SCHEMA}.speakers m ON m.speaker_id = r.manager_id
WHERE {R_IS_REP}
"""
ONE_REP_SQL = PEOPLE_SQL + " AND r.speaker_id = ?"
SOME_REPS_SQL = PEOPLE_SQL + f" AND r.speaker_id {IN_RUN}"
TEAM_SQL = PEOPLE_SQL + " AND r.manager_id = ? ORDER BY r.name, r.speaker_id"
MANAGERS_SQL = f"""
SELECT m.speaker_id, m.name, m.email, m.slack_user_id
FROM {SCHEMA}.speakers m
WHERE m.speaker_id IN (SELECT manager_id FROM {SCHEMA}.speakers WHERE {IS_REP})
ORDER BY m.name, m.speaker_id
"""
# The reps with at least one call started in the period ([start, end + 1 day)), by name.
_ACTIVE = f"""
SELECT r.speaker_id FROM {SCHEMA}.speakers r
WHERE {R_IS_REP}
  AND r.speaker_id IN (SELECT c.rep_id FROM {SCHEMA}.calls c
                       WHERE c.started_at >= CAST(? AS TIMESTAMP_NTZ) AND c.started_at < CAST(? AS TIMESTAMP_NTZ))
"""
ACTIVE_SQL = _ACTIVE + " ORDER BY r.name, r.speaker_id"
ACTIVE_OF_SQL = _ACTIVE + f" AND r.speaker_id {IN_RUN} ORDER BY r.name, r.speaker_id"
COUNT_OURS_SQL = f"SELECT COUNT(*) FROM {SCHEMA}.speakers WHERE company_side"
COUNT_REPS_SQL = f"SELECT COUNT(*) FROM {SCHEMA}.speakers WHERE {IS_REP}"
COVERAGE_SQL = f"SELECT MIN(started_at) AS first_call, MAX(started_at) AS last_call FROM {SCHEMA}.calls"


def _subject(row: Mapping[str, Any]) -> Subject:
    detail = {
        "email": row["email"], "manager_id": row["manager_id"], "manager_name": row["manager_name"],
        "slack_user_id": row["slack_user_id"],
    }  # fmt: skip
    return Subject(str(row["rep_id"]), str(row["name"]), row["manager_id"] or "", detail)


def _period(week: Week) -> str:
    return f"the week of {week.start}" if week.days == 7 else f"{week.start} to {week.end}"


class CoachingReview(ReportKind):
    """The sales-coaching review (design §9, §10): summary, scores by dimension, recurring
    objections, the period's calls, three focus areas."""

    name = "coaching"
    title = "sales-coaching review"
    heading = "Weekly coaching review"
    sections = SECTIONS
    scope = COACHING_SCOPE
    cortex_agent = DEFAULT_COACHING_AGENT
    no_data_note = "the rep had no calls in the period"

    def agent_name(self, settings: Settings) -> str:
        # CORTEX_COACHING_AGENT names the coaching agent (by default the one sql/ creates).
        return settings.cortex_coaching_agent

    def scope_note(self, subject_id: str, subject_name: str) -> str:
        return (
            f"[Scope: this thread is the weekly sales-coaching review of rep {subject_id} ({subject_name}). "
            f"Answer only about {subject_id}: filter every query on rep_id = '{subject_id}', do not read "
            f"or name any other rep, and if the question asks for anything else, say you can only "
            f"answer about {subject_id}.]"
        )

    def validate_subject(self, text: str | None) -> str:
        candidate = (text or "").strip().upper()
        if not candidate:
            raise InputError("a rep id is required, e.g. REP001")
        if not _REP_ID.match(candidate):
            raise InputError(f"'{shown(text or '')}' is not a rep id; expected REP and digits, e.g. REP001")
        return candidate

    # --- who ---------------------------------------------------------------------------

    def targets(
        self, warehouse: Warehouse, recipient_id: str | None = None, subject_id: str | None = None
    ) -> list[Target]:
        """Every rep; or one rep (on demand, already authorised: its recipient is the rep
        whoever asked); or a recipient's: a rep's own, a manager's team's."""
        if subject_id is not None:
            rep = self._rep(warehouse, subject_id)
            return [Target(rep["rep_id"], rep["rep_id"])]
        if recipient_id is not None:
            team = warehouse.query(TEAM_SQL, [recipient_id])
            if team:
                return [Target(r["rep_id"], r["rep_id"]) for r in team]
            rep = self._rep(warehouse, recipient_id)
            return [Target(rep["rep_id"], rep["rep_id"])]
        return [Target(r["speaker_id"], r["speaker_id"]) for r in warehouse.query(REPS_SQL)]

    def active_targets(
        self, warehouse: Warehouse, week: Week, rep_ids: Sequence[str] | None = None
    ) -> list[Target]:
        """The reps with at least one call started in the period, by name (one statement)."""
        period = [week.start, week.end + _DAY]
        if rep_ids is None:
            _, rows = warehouse.fetch(ACTIVE_SQL, period)
        else:
            _, rows = warehouse.fetch(ACTIVE_OF_SQL, [*period, json.dumps(sorted(set(rep_ids)))])
        return [Target(r[0], r[0]) for r in rows]

    def no_reps_reason(self, warehouse: Warehouse, week: Week) -> str:
        """Why a period has no reviews: no company-side speakers, none of them a rep (each
        manages someone), or no calls in it."""
        if not warehouse.scalar(COUNT_OURS_SQL):
            return "no company_side speakers in COACHING.speakers"
        if not warehouse.scalar(COUNT_REPS_SQL):
            return "no reps in COACHING.speakers: every company_side speaker manages another speaker"
        return f"no calls between {week.start} and {week.end}"

    def team(self, warehouse: Warehouse, manager_id: str) -> list[Subject]:
        """The manager's reps, by name."""
        return [_subject(r) for r in warehouse.query(TEAM_SQL, [manager_id])]

    def managers(self, warehouse: Warehouse) -> dict[str, tuple[str, str | None, str | None]]:
        """Every rep's manager: manager_id -> (name, email, slack_user_id)."""
        return {
            r["speaker_id"]: (r["name"], r["email"], r["slack_user_id"])
            for r in warehouse.query(MANAGERS_SQL)
        }

    def authorize(self, warehouse: Warehouse, requester: Requester, subject_id: str) -> None:
        """Admins see every review; a rep their own; a manager their team's (by email, or by
        speaker id as the requester's csm_id). An unknown rep: UnknownSubject."""
        rep = self._rep(warehouse, subject_id)
        if requester.is_admin:
            return
        email = (requester.email or "").strip().lower()
        ids = {requester.csm_id} - {None}
        if rep["rep_id"] in ids or (email and email == (rep["email"] or "").lower()):
            return
        if rep["manager_id"] and (
            rep["manager_id"] in ids or (email and email == (rep["manager_email"] or "").lower())
        ):
            return
        who = requester.email or requester.csm_id or "you"
        raise NotAuthorized(
            f"{who} may see only their own sales-coaching reviews and their team's, not {rep['rep_id']}'s"
        )

    def _rep(self, warehouse: Warehouse, rep_id: str) -> dict[str, Any]:
        rows = warehouse.query(ONE_REP_SQL, [self.validate_subject(rep_id)])
        if not rows:
            raise UnknownSubject(
                f"unknown rep {shown(rep_id)}: no company-side speaker who manages no one has that id"
            )
        return rows[0]

    def subjects(self, warehouse: Warehouse, subject_ids: Sequence[str]) -> Mapping[str, Subject]:
        rows = warehouse.query(SOME_REPS_SQL, [json.dumps(sorted(set(subject_ids)))])
        return {str(r["rep_id"]): _subject(r) for r in rows}

    def known_subjects(self, warehouse: Warehouse) -> Mapping[str, str]:
        return {str(r["speaker_id"]): str(r["name"]) for r in warehouse.query(REPS_SQL)}

    # --- what --------------------------------------------------------------------------

    def facts(self, warehouse: Warehouse, week: Week, subject_ids: Sequence[str]) -> CoachingFacts:
        return load_facts(warehouse, week, subject_ids)

    def subject_of(self, facts: Any) -> Subject:
        rep: RepFacts = facts
        detail = {
            "email": rep.email, "manager_id": rep.manager_id, "manager_name": rep.manager_name,
            "slack_user_id": rep.slack_user_id,
        }  # fmt: skip
        return Subject(rep.rep_id, rep.name, rep.manager_id or "", detail)

    def headline(self, facts: Any) -> CoachingHeadline:
        return review(facts).headline

    def stored_headline(self, stored: Mapping[str, Any] | None) -> CoachingHeadline | None:
        return CoachingHeadline.from_dict(stored) if stored else None

    def week_status(self, facts: Any) -> str | None:
        rep: RepFacts = facts
        return NO_DATA if rep.current.calls == 0 else None

    def judgement(self, facts: Any) -> dict[str, Any]:
        found = review(facts)
        v = found.verdict
        variables = {
            "verdict": v.line, "direction": v.direction, "score_points": v.score_points,
            "previous_points": v.previous_points, "trend": v.trend,
            "focus_titles": [f.title for f in found.focus],
            # The team's averages come from the facts: an agent computing them would read other
            # reps' rows, which the guard withholds (COACHING_SCOPE), failing the section.
            "team_points": {d.label: d.team_points for d in v.dimensions if d.team_points is not None},
        }  # fmt: skip
        # The prompts' shared paragraph (the rep, the period, the verdict), rendered once per
        # report rather than once per section.
        rep: RepFacts = facts
        subject = self.subject_of(rep)
        variables["brief"] = render(SCOPE_TEMPLATE, **self.prompt_context(subject, rep.week), **variables)
        return variables

    def prompt_context(self, subject: Subject, week: Week) -> dict[str, Any]:
        return {
            "rep_id": subject.subject_id, "rep_name": subject.name,
            "manager_name": subject.detail.get("manager_name") or "",
            "subject_id": subject.subject_id, "subject_name": subject.name, "group": subject.group,
            "week_start": week.start, "week_end": week.end,
            "previous_start": week.previous.start, "previous_end": week.previous.end,
            "days": week.days,
        }  # fmt: skip

    def metadata(self, subject: Subject) -> dict[str, Any]:
        return {"subject_name": subject.name, **{k: subject.detail.get(k) for k in _DETAIL}}

    def subject_from_metadata(self, subject_id: str, metadata: Mapping[str, Any]) -> Subject:
        detail = {k: metadata.get(k) for k in _DETAIL}
        name = str(metadata.get("subject_name", subject_id))
        return Subject(subject_id, name, str(metadata.get("manager_id") or ""), detail)

    def suggested_questions(self, report: Report) -> Sequence[str]:
        headline = report.headline
        return coaching_questions(headline if isinstance(headline, CoachingHeadline) else None)

    def coverage(self, warehouse: Warehouse, week: Week) -> None:
        row = warehouse.query(COVERAGE_SQL)[0]
        first, last = row["first_call"], row["last_call"]
        if first is None:
            raise InvalidWeek(
                "the warehouse has no coaching calls yet; run `weekly-report load-demo` or load yours"
            )
        if week.end < first.date() or week.start > last.date():
            raise InvalidWeek(f"no calls in {_period(week)}; the calls cover {first.date()} to {last.date()}")

    def answer_locally(self, warehouse: Warehouse, prompt: str, context: AskContext) -> LocalAnswer:
        """A section from the rep's facts (the engine's, else queried here); a follow-up
        question from core.kinds.coaching.followup."""
        key = context.section_key
        if key is None:
            return followup.answer(warehouse, prompt, context)
        rep = context.facts if isinstance(context.facts, RepFacts) else None
        if rep is None:
            rep = load_facts(warehouse, context.week, [context.subject_id]).get(context.subject_id)
            if rep is None:
                raise UnknownSubject(f"unknown rep {shown(context.subject_id)}")
        return LocalAnswer(section_text(key, rep), section_sql(key), [])


_DETAIL = ("email", "manager_id", "manager_name", "slack_user_id")
_DAY = dt.timedelta(days=1)

COACHING = CoachingReview()
