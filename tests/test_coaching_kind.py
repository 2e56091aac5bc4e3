"""The sales-coaching review kind on the demo warehouse: each rep's story shows in the review,
every figure is checked against SQL of this test's own (not the kind's statements), the team
averages, who may see what, and a whole run through the engine with the local analyst and
with a scripted agent."""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.slack_dm.render import slack_parent
from core import ReportEngine, Requester, Settings
from core.agent.base import AskContext
from core.agent.local.analyst import LocalAnalyst
from core.agent.testing import ScriptedAgent
from core.demo.coaching import OPENERS
from core.errors import AgentUnavailable, InputError, InvalidWeek, NotAuthorized, UnknownSubject
from core.kinds import COACHING, Target, get_kind
from core.kinds.coaching.facts import Call, CoachingFacts, RepFacts, Scores
from core.kinds.coaching.headline import CoachingHeadline
from core.kinds.coaching.sections import review, section_text
from core.kinds.coaching.verdict import points, verdict
from core.models import COMPLETE, NO_DATA
from core.render import markdown
from core.summary import RunSummary
from core.warehouse.base import COACHING as C
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week
from tests.conftest import AS_OF, REPORT_WEEK

W = Week(REPORT_WEEK)  # Mon 2026-11-09 .. Sun 2026-11-15
DIMENSIONS = ("product_knowledge", "discovery", "objection_handling", "engagement")
SECTION_TITLES = ("Summary", "Scores by Dimension", "Recurring Objections", "Calls This Week", "Focus Areas")


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    home = tmp_path_factory.mktemp("coaching-kind") / "home"
    shutil.copytree(demo_template, home)
    with EmbeddedWarehouse(home) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def run(wh: EmbeddedWarehouse) -> RunSummary:
    """Every rep's review of the week, generated once by the engine with the local analyst."""
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, LocalAnalyst(wh), kind=COACHING)
    return engine.generate(COACHING.targets(wh), engine.week())


def rep_id(wh: EmbeddedWarehouse, name: str) -> str:
    return str(wh.scalar(f"SELECT speaker_id FROM {C}.speakers WHERE name = ?", [name]))


@pytest.fixture(scope="module")
def week_facts(wh: EmbeddedWarehouse) -> CoachingFacts:
    """Every rep's facts of the week, queried once for the module's read-only tests."""
    return COACHING.facts(wh, W, [t.subject_id for t in COACHING.targets(wh)])


def facts(wh: EmbeddedWarehouse, name: str, week: Week = W, loaded: CoachingFacts | None = None) -> RepFacts:
    rep = rep_id(wh, name)
    found = (loaded if loaded is not None else COACHING.facts(wh, week, [rep])).get(rep)
    assert found is not None
    return found


# The test's own SQL: by calendar day of the call, sessions through a correlated subquery.
def period_figures(wh: EmbeddedWarehouse, rep: str, week: Week) -> dict[str, Any]:
    row = wh.query(
        f"SELECT COUNT(*) AS calls, "
        f"(SELECT COUNT(*) FROM {C}.coaching_sessions s WHERE s.call_id IN (SELECT call_id FROM {C}.calls "
        "  WHERE rep_id = ? AND CAST(started_at AS DATE) BETWEEN ? AND ?)) AS sessions "
        f"FROM {C}.calls WHERE rep_id = ? AND CAST(started_at AS DATE) BETWEEN ? AND ?",
        [rep, week.start, week.end, rep, week.start, week.end],
    )[0]
    averages = wh.query(
        "SELECT "
        + ", ".join(f"SUM({d}) AS {d}_sum, COUNT({d}) AS {d}_n" for d in ("overall_score", *DIMENSIONS))
        + f" FROM {C}.coaching_sessions WHERE call_id IN (SELECT call_id FROM {C}.calls "
        "WHERE rep_id = ? AND CAST(started_at AS DATE) BETWEEN ? AND ?)",
        [rep, week.start, week.end],
    )[0]
    means = {
        d: (float(averages[f"{d}_sum"]) / int(averages[f"{d}_n"]) if averages[f"{d}_n"] else None)
        for d in ("overall_score", *DIMENSIONS)
    }
    return {"calls": int(row["calls"]), "sessions": int(row["sessions"]), **means}


def half_up(value: float | None) -> int | None:
    return None if value is None else math.floor(value + 0.5)


def team_means(wh: EmbeddedWarehouse, manager_id: str) -> dict[str, float]:
    row = wh.query(
        "SELECT "
        + ", ".join(f"AVG({d}) AS {d}" for d in ("overall_score", *DIMENSIONS))
        + f" FROM {C}.coaching_sessions WHERE call_id IN (SELECT c.call_id FROM {C}.calls c "
        f"JOIN {C}.speakers p ON p.speaker_id = c.rep_id WHERE p.manager_id = ? AND p.company_side "
        "AND CAST(c.started_at AS DATE) BETWEEN ? AND ?)",
        [manager_id, W.start, W.end],
    )[0]
    return {k: float(v) for k, v in row.items()}


# --- who gets a review -------------------------------------------------------------------------


def test_active_reps_are_those_with_calls_in_the_period_by_name(wh: EmbeddedWarehouse) -> None:
    expected = wh.query(
        f"SELECT s.speaker_id FROM {C}.speakers s WHERE s.manager_id IS NOT NULL AND EXISTS ("
        f"SELECT 1 FROM {C}.calls c WHERE c.rep_id = s.speaker_id AND CAST(c.started_at AS DATE) BETWEEN ? AND ?) "
        "ORDER BY s.name",
        [W.start, W.end],
    )
    active = [t.subject_id for t in COACHING.active_targets(wh, W)]
    assert active == [r["speaker_id"] for r in expected] and len(active) == 7
    assert rep_id(wh, "Tom Alvarez") not in active
    assert all(t.recipient_id == t.subject_id for t in COACHING.active_targets(wh, W))
    jane, tom = rep_id(wh, "Jane Smith"), rep_id(wh, "Tom Alvarez")
    assert [t.subject_id for t in COACHING.active_targets(wh, W, [tom, jane])] == [jane]
    # Every rep is a target on demand, Tom too; one rep's own review goes to them.
    assert len(COACHING.targets(wh)) == 8
    assert [(t.recipient_id, t.subject_id) for t in COACHING.targets(wh, subject_id=tom)] == [(tom, tom)]


def test_no_reps_reason_names_the_empty_period_or_the_missing_speakers(wh: EmbeddedWarehouse) -> None:
    far = Week(dt.date(2025, 1, 6))
    assert COACHING.active_targets(wh, far) == []
    assert COACHING.no_reps_reason(wh, far) == "no calls between 2025-01-06 and 2025-01-12"

    class Undo(Exception):
        pass

    with pytest.raises(Undo), wh.transaction():
        wh.execute(f"UPDATE {C}.speakers SET company_side = FALSE")
        assert COACHING.no_reps_reason(wh, W) == "no company_side speakers in COACHING.speakers"
        raise Undo
    assert len(COACHING.targets(wh)) == 8


def test_managers_and_their_teams(wh: EmbeddedWarehouse) -> None:
    managers = COACHING.managers(wh)
    assert {m: v[0] for m, v in managers.items()} == {"MGR001": "Olivia Bennett", "MGR002": "Marcus Reid"}
    assert managers["MGR001"][1] == "olivia.bennett@example.com"
    team = COACHING.team(wh, "MGR002")
    assert [s.name for s in team] == ["Aisha Okafor", "Hannah Kim", "Lucas Meyer", "Ryan O'Connor"]
    assert {s.group for s in team} == {"MGR002"} and team[0].detail["manager_name"] == "Marcus Reid"


# --- the figures ---------------------------------------------------------------------------------


def test_every_reps_figures_match_sql_of_our_own(wh: EmbeddedWarehouse) -> None:
    reps = [t.subject_id for t in COACHING.targets(wh)]
    loaded = COACHING.facts(wh, W, reps)
    for rep in reps:
        f = loaded.get(rep)
        assert f is not None
        h = COACHING.headline(f)
        now, before = period_figures(wh, rep, W), period_figures(wh, rep, W.previous)
        assert (f.current.calls, f.current.sessions) == (now["calls"], now["sessions"]), rep
        assert (f.previous.calls, f.previous.sessions) == (before["calls"], before["sessions"]), rep
        assert (h.calls, h.sessions) == (now["calls"], now["sessions"])
        assert h.score_points == half_up(now["overall_score"])
        assert h.previous_points == half_up(before["overall_score"])
        if h.score_points is not None and h.previous_points is not None:
            assert h.trend == h.score_points - h.previous_points
        else:
            assert h.trend is None
        for d in h.dimensions:
            assert d["points"] == half_up(now[d["key"]]), (rep, d)
            previous = half_up(before[d["key"]])
            assert d["trend"] == (None if previous is None or d["points"] is None else d["points"] - previous)


def test_team_averages_are_the_managers_reps_sessions_of_the_period(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts
) -> None:
    for name, manager in (("Jane Smith", "MGR001"), ("Lucas Meyer", "MGR002")):
        f = facts(wh, name)
        means = team_means(wh, manager)
        assert f.team is not None and f.team.overall == pytest.approx(means["overall_score"])
        h = COACHING.headline(f)
        assert {d["key"]: d["team_points"] for d in h.dimensions} == {
            d: half_up(means[d]) for d in DIMENSIONS
        }
    # Olivia Bennett's team average includes Priya (new) and not Marcus Reid's reps.
    olivia, marcus = (
        facts(wh, "Priya Natarajan", loaded=week_facts).team,
        facts(wh, "Aisha Okafor", loaded=week_facts).team,
    )
    assert olivia is not None and marcus is not None and olivia.overall != marcus.overall


def test_the_periods_calls_with_their_scores(wh: EmbeddedWarehouse, week_facts: CoachingFacts) -> None:
    f = facts(wh, "Jane Smith", loaded=week_facts)
    rows = wh.query(
        f"SELECT c.call_id, c.title, c.customer_name, c.duration_seconds, "
        f"(SELECT MAX(overall_score) FROM {C}.coaching_sessions s WHERE s.call_id = c.call_id) AS score "
        f"FROM {C}.calls c WHERE c.rep_id = ? AND CAST(c.started_at AS DATE) BETWEEN ? AND ? ORDER BY c.started_at",
        [f.rep_id, W.start, W.end],
    )
    assert [(c.call_id, c.title, c.customer, c.duration_seconds) for c in f.calls] == [
        (r["call_id"], r["title"], r["customer_name"], r["duration_seconds"]) for r in rows
    ]
    assert [c.score for c in f.calls] == [None if r["score"] is None else float(r["score"]) for r in rows]
    assert any(c.score is None for c in f.calls)  # one call was not scored: 6 calls, 5 sessions


# --- the stories --------------------------------------------------------------------------------


def test_jane_improves_and_david_declines(wh: EmbeddedWarehouse, week_facts: CoachingFacts) -> None:
    jane, david = (
        COACHING.headline(facts(wh, "Jane Smith", loaded=week_facts)),
        COACHING.headline(facts(wh, "David Park", loaded=week_facts)),
    )
    assert (
        jane.direction == "up" and jane.trend is not None and jane.trend > 0 and jane.verdict == "Improving"
    )
    assert david.direction == "down" and david.trend is not None and david.trend < 0
    assert david.verdict == "Declining"
    assert david.verdict_reasons[0] == (
        f"overall {david.score_points}/100 over {david.sessions} sessions, {david.trend} from "
        f"{david.previous_points} last week"
    )


def test_priya_is_new_and_tom_has_no_data(wh: EmbeddedWarehouse, week_facts: CoachingFacts) -> None:
    priya = COACHING.headline(facts(wh, "Priya Natarajan", loaded=week_facts))
    assert (priya.direction, priya.trend, priya.previous_points) == ("new", None, None)
    assert priya.score_points is not None and "no sessions last week" in priya.verdict_reasons[0]
    assert all(d["trend"] is None for d in priya.dimensions)
    tom = facts(wh, "Tom Alvarez", loaded=week_facts)
    assert tom.current.calls == 0 and tom.previous.sessions > 0
    assert COACHING.week_status(tom) == NO_DATA


def test_aishas_pricing_objection_recurs_with_real_transcript_lines(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts
) -> None:
    f = facts(wh, "Aisha Okafor", loaded=week_facts)
    counted = wh.scalar(
        f"SELECT COUNT(*) FROM {C}.coaching_sessions s JOIN {C}.calls c ON c.call_id = s.call_id "
        "WHERE c.rep_id = ? AND CAST(c.started_at AS DATE) BETWEEN ? AND ? AND CAST(s.objections AS VARCHAR) LIKE '%\"pricing\"%'",
        [f.rep_id, W.start, W.end],
    )
    top = f.objections[0]
    assert (top.label, top.sessions) == ("pricing", counted) and counted >= 3
    assert 1 <= len(top.examples) <= 2
    for example in top.examples:
        for moment in (example.raised, example.answer):
            assert moment is not None
            said = wh.query(
                f"SELECT t.text, p.name, c.title, c.customer_name FROM {C}.transcripts t "
                f"JOIN {C}.calls c ON c.call_id = t.call_id JOIN {C}.speakers p ON p.speaker_id = t.speaker_id "
                "WHERE t.call_id = ? AND t.offset_seconds = ?",
                [moment.call_id, moment.offset_seconds],
            )
            assert [(s["text"], s["name"], s["title"], s["customer_name"]) for s in said] == [
                (moment.quote, moment.speaker, moment.title, moment.customer)
            ]
        assert example.answer is not None and example.answer.speaker == "Aisha Okafor"
    h = COACHING.headline(f)
    assert h.objections[0] == {"label": "pricing", "count": counted}
    assert f"pricing objection in {counted} of {f.current.sessions} sessions" in h.verdict_reasons
    assert any(a.key == "pricing" for a in review(f).focus)


def test_lucas_is_strong_on_product_knowledge_and_discovery_is_his_first_focus(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts
) -> None:
    f = facts(wh, "Lucas Meyer", loaded=week_facts)
    found = review(f)
    ranked = [d.key for d in found.verdict.weakest]
    assert ranked[0] == "discovery" and ranked[-1] == "product_knowledge"
    first = found.focus[0]
    assert (first.kind, first.key) == ("dimension", "discovery") and len(found.focus) == 3
    calls = wh.query(
        f"SELECT c.call_id, s.discovery, ARRAY_SIZE(s.highlights) AS highlights FROM {C}.coaching_sessions s "
        f"JOIN {C}.calls c ON c.call_id = s.call_id WHERE c.rep_id = ? AND CAST(c.started_at AS DATE) "
        "BETWEEN ? AND ? ORDER BY s.discovery, c.started_at, c.call_id",
        [f.rep_id, W.start, W.end],
    )
    # His lowest discovery call has no highlight (no objection came up on it): the lowest one
    # with a highlighted moment is cited instead, and the review says which it is.
    cited = next(c for c in calls if c["highlights"] > 0)
    assert calls[0]["highlights"] == 0 and cited["discovery"] > calls[0]["discovery"]
    assert first.moment is not None and first.moment.call_id == cited["call_id"]
    assert first.call_points == cited["discovery"] and not first.call_is_lowest
    assert (
        f"({cited['discovery']}/100 on discovery, the lowest of the period's calls with a highlighted moment)"
        in section_text("focus", f)
    )


# --- the verdict on its own -----------------------------------------------------------------------


def rep_with(current: Scores, previous: Scores) -> RepFacts:
    return RepFacts("REP900", "Test Rep", None, None, None, None, None, W, current, previous)


def scores(overall: float | None, sessions: int = 2, calls: int = 2) -> Scores:
    return Scores(calls, sessions, overall, dict.fromkeys(DIMENSIONS, overall))


def test_points_round_half_up_and_the_trend_is_whole_points() -> None:
    assert [points(x) for x in (72.5, 72.49, 71.5, 0.5, None)] == [73, 72, 72, 1, None]
    v = verdict(rep_with(scores(72.5), scores(71.5)))  # 73 - 72, not round(72.5) - round(71.5) = 0
    assert (v.score_points, v.previous_points, v.trend, v.direction) == (73, 72, 1, "up")
    assert verdict(rep_with(scores(70.4), scores(69.6))).direction == "flat"
    assert verdict(rep_with(scores(70.0), Scores(3, 0, None))).direction == "new"
    unscored = verdict(rep_with(Scores(2, 0, None), scores(70.0)))
    assert (unscored.direction, unscored.reasons) == ("unscored", ("2 calls, none with a coaching session",))


def test_a_stored_headline_reads_back_as_the_kinds_own() -> None:
    h = COACHING.headline(rep_with(scores(80.0), scores(75.0)))
    assert COACHING.stored_headline({**h.as_dict(), "added_later": 1}) == h
    assert COACHING.stored_headline(None) is None and isinstance(h, CoachingHeadline)


# --- who may see what ---------------------------------------------------------------------------


def test_authorize_rep_own_manager_team_admin_all(wh: EmbeddedWarehouse) -> None:
    jane, aisha = rep_id(wh, "Jane Smith"), rep_id(wh, "Aisha Okafor")
    COACHING.authorize(wh, Requester(is_admin=True), aisha)
    COACHING.authorize(wh, Requester(email="Jane.Smith@Example.com"), jane)
    COACHING.authorize(wh, Requester(csm_id=jane), jane)
    COACHING.authorize(wh, Requester(email="olivia.bennett@example.com"), jane)
    COACHING.authorize(wh, Requester(csm_id="MGR002"), aisha)
    for requester in (
        Requester(email="jane.smith@example.com"),
        Requester(email="olivia.bennett@example.com"),
    ):
        with pytest.raises(NotAuthorized) as refused:
            COACHING.authorize(wh, requester, aisha)
        assert "\n" not in str(refused.value) and "only their own" in str(refused.value)
    with pytest.raises(UnknownSubject, match="unknown rep REP999"):
        COACHING.authorize(wh, Requester(is_admin=True), "REP999")
    with pytest.raises(InputError, match="is not a rep id"):
        COACHING.authorize(wh, Requester(is_admin=True), "CUST_12345")
    assert COACHING.validate_subject(" rep001 ") == "REP001"
    with pytest.raises(InputError, match="rep id is required"):
        COACHING.validate_subject("  ")


def test_coverage_refuses_a_period_without_calls_near_it(wh: EmbeddedWarehouse) -> None:
    COACHING.coverage(wh, W)
    with pytest.raises(InvalidWeek, match=r"no calls in the week of 2025-01-06; the calls cover 2026-08-"):
        COACHING.coverage(wh, Week(dt.date(2025, 1, 6)))

    class Undo(Exception):
        pass

    with pytest.raises(Undo), wh.transaction():
        wh.execute(f"DELETE FROM {C}.calls")
        with pytest.raises(InvalidWeek, match="no coaching calls yet"):
            COACHING.coverage(wh, W)
        raise Undo


def test_the_kind_is_registered_with_its_own_agent_and_ids(wh: EmbeddedWarehouse) -> None:
    assert get_kind("coaching") is COACHING
    settings = Settings(home=wh.home, today=AS_OF, cortex_coaching_agent="DB.AGENTS.COACH")
    assert COACHING.agent_name(settings) == "DB.AGENTS.COACH"
    assert COACHING.report_id("REP001", W) == "coaching:REP001-20261109"
    assert "rep_id = 'REP001'" in COACHING.scope_note("REP001", "Jane Smith")
    assert COACHING.known_subjects(wh)["REP006"] == "Lucas Meyer" and "MGR001" not in COACHING.known_subjects(
        wh
    )


# --- a whole run ----------------------------------------------------------------------------------


def test_the_engine_generates_every_reps_complete_review(wh: EmbeddedWarehouse, run: RunSummary) -> None:
    assert (run.status, run.reports_generated, run.reports_no_data, run.reports_failed) == (
        "completed",
        7,
        1,
        0,
    )
    tom = run.reports[rep_id(wh, "Tom Alvarez")]
    assert (tom.status, tom.sections, tom.headline) == (NO_DATA, [], None)
    assert "No calls this week" in tom.full_report
    jane = run.reports[rep_id(wh, "Jane Smith")]
    assert (
        jane.status == COMPLETE and jane.kind == "coaching" and jane.report_id == "coaching:REP001-20261109"
    )
    assert (jane.customer_name, jane.industry, jane.csm_id) == ("Jane Smith", "MGR001", "REP001")
    assert [s.title for s in jane.sections] == list(SECTION_TITLES)
    headers = re.findall(r"^## \d\. (.+)$", jane.full_report, flags=re.M)
    assert headers == list(SECTION_TITLES)
    h = jane.headline
    assert isinstance(h, CoachingHeadline)
    assert f"**Overall: {h.score_points}/100** (+{h.trend} from last week)" in jane.full_report
    assert jane.full_report == markdown(jane)
    # Stored and read back: the same headline, the kind's own type.
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, LocalAnalyst(wh), kind=COACHING)
    stored = engine.store.load("REP001", W, "coaching")
    assert stored.headline == h and stored.full_report == jane.full_report
    assert stored.metadata["manager_name"] == "Olivia Bennett"
    assert (stored.customer_name, stored.industry, stored.kind) == ("Jane Smith", "MGR001", "coaching")


def test_each_sections_figures_are_the_facts_and_each_focus_cites_a_call_moment(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts, run: RunSummary
) -> None:
    aisha = run.reports[rep_id(wh, "Aisha Okafor")]
    text = {s.key: s.content or "" for s in aisha.sections}
    f = facts(wh, "Aisha Okafor", loaded=week_facts)
    assert f"- **Calls:** {f.current.calls} ({f.previous.calls} last week)" in text["summary"]
    for c in f.calls:
        assert f"**{c.title}** · {c.customer} · {half_up(c.duration_seconds / 60)} min" in text["calls"]
    assert (
        f"**Pricing:** raised in {f.objections[0].sessions} of {f.current.sessions} sessions"
        in text["objections"]
    )
    assert "No objection came up in more than one session" not in text["objections"]
    lucas = run.reports[rep_id(wh, "Lucas Meyer")].sections[2].content or ""
    assert lucas.startswith("No objection came up in more than one session; each was raised once:")
    focus = re.findall(
        r'^\d\. \*\*(.+?):.*? In "(.+?)" with (.+?), \w{3} \w{3} \d+, (\d\d:\d\d) into the call.*?said: "(.+?)"',
        text["focus"],
        re.M,
    )
    assert len(focus) == 3
    for _title, call_title, customer, clock, quote in focus:
        minutes, seconds = map(int, clock.split(":"))
        found = wh.scalar(
            f"SELECT COUNT(*) FROM {C}.transcripts t JOIN {C}.calls c ON c.call_id = t.call_id "
            "WHERE c.rep_id = ? AND c.title = ? AND c.customer_name = ? AND t.offset_seconds = ? AND t.text = ?",
            [f.rep_id, call_title, customer, 60 * minutes + seconds, quote],
        )
        assert found == 1, (call_title, clock, quote)
    parent = slack_parent(aisha).text
    assert aisha.headline is not None and "Objections:* pricing ×" in parent
    assert parent.startswith(f"Weekly coaching review: Aisha Okafor ({aisha.subject_id})\n")


def test_a_section_without_the_runs_facts_queries_them_and_says_the_same(
    wh: EmbeddedWarehouse, run: RunSummary
) -> None:
    lucas = rep_id(wh, "Lucas Meyer")
    context = AskContext(lucas, "Lucas Meyer", "MGR002", W, section_key="focus", kind="coaching")
    answer = COACHING.answer_locally(wh, "focus", context)
    assert answer.text == run.reports[lucas].sections[4].content
    assert answer.sql and all("?" in s for s in answer.sql)
    with pytest.raises(UnknownSubject):
        COACHING.answer_locally(
            wh, "focus", AskContext("REP999", "?", "", W, section_key="focus", kind="coaching")
        )


def test_prompts_carry_the_verdict_and_the_period_to_an_agent(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts
) -> None:
    agent = ScriptedAgent(lambda asked: f"{asked.context.section_key} for {asked.context.subject_id}")
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, agent, kind=COACHING, workers=1)
    david = rep_id(wh, "David Park")
    report = engine.generate(COACHING.targets(wh, subject_id=david), W, refresh=True).reports[david]
    assert report.status == COMPLETE and [s.content for s in report.sections] == [
        f"{s.key} for {david}" for s in COACHING.sections
    ]
    line = review(facts(wh, "David Park", loaded=week_facts)).verdict.line
    assert line.startswith("Declining: overall ")
    prompts = [a.prompt for a in agent.asked]
    assert len(prompts) == 5
    for prompt in prompts:
        assert f'"{line}"' in prompt and f"rep_id = '{david}'" in prompt
        assert "2026-11-09 to 2026-11-15" in prompt and "2026-11-02 to 2026-11-08" in prompt
    assert all(isinstance(a.context.facts, RepFacts) for a in agent.asked)
    # The team's averages are given, from the facts: the agent may read this rep's rows only
    # (COACHING_SCOPE), so one it had to compute itself would be withheld.
    team = {d["label"]: d["team_points"] for d in report.headline.as_dict()["dimensions"]}
    scores = next(a.prompt for a in agent.asked if a.context.section_key == "scores")
    assert all(value is not None for value in team.values())
    assert "Team averages this period: " + "; ".join(f"{k} {v}/100" for k, v in team.items()) + "." in scores


def test_every_section_reads_well_for_an_unscored_rep_without_a_manager() -> None:
    rep = rep_with(Scores(calls=2, sessions=0), Scores())
    rep.calls = [
        Call(
            "CALL-X-1", "Discovery call", "Northwind Traders", dt.datetime(2026, 11, 10, 14, 30), 1830, None
        ),
        Call("CALL-X-2", "Product demo", "Contoso Health", dt.datetime(2026, 11, 12, 9, 0), None, None),
    ]
    text = {s.key: section_text(s.key, rep) for s in COACHING.sections}
    assert "- **Overall score:** not scored: no call of the period has a coaching session" in text["summary"]
    assert "**Verdict: Not scored.** 2 calls, none with a coaching session." in text["summary"]
    assert text["scores"].count("not scored") == 4 and "Test Rep has no manager on record" in text["scores"]
    assert text["objections"] == "No objections were recorded in the period's 0 coaching sessions."
    assert text["calls"].splitlines() == [
        "- Tue Nov 10, 14:30 UTC · **Discovery call** · Northwind Traders · 31 min · not scored",
        "- Thu Nov 12, 09:00 UTC · **Product demo** · Contoso Health · length unknown · not scored",
    ]
    assert text["focus"].startswith("No coaching session scored")
    h = COACHING.headline(rep)
    assert (h.direction, h.score_points, h.trend, h.score_text) == ("unscored", None, None, "not scored")


def test_a_concurrent_engine_names_reps_before_their_facts_arrive(wh: EmbeddedWarehouse) -> None:
    agent = ScriptedAgent(lambda asked: f"{asked.context.subject_name} / {asked.context.group}")
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, agent, kind=COACHING, workers=2)
    reps = [rep_id(wh, "Hannah Kim"), rep_id(wh, "Ryan O'Connor")]
    summary = engine.generate(COACHING.active_targets(wh, W, reps), W, refresh=True)
    assert summary.reports_generated == 2
    for rep in reps:
        report = summary.reports[rep]
        assert report.sections[0].content == f"{report.customer_name} / MGR002"
        assert isinstance(report.headline, CoachingHeadline) and report.headline.rep_id == rep


def test_a_requester_of_another_team_gets_nothing_generated(wh: EmbeddedWarehouse) -> None:
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, ScriptedAgent({}), kind=COACHING)
    with pytest.raises(NotAuthorized):
        engine.targets("REP001", "REP005")
    assert engine.targets("REP005", "REP005") == [Target("REP005", "REP005")]
    # A manager asking for a team member's review: generated for the rep, its recipient.
    assert engine.targets("MGR002", "REP005") == [Target("REP005", "REP005")]
    assert [t.subject_id for t in engine.targets("MGR002")] == ["REP005", "REP007", "REP006", "REP008"]
    assert engine.targets("REP001") == [Target("REP001", "REP001")]
    with pytest.raises(UnknownSubject):
        engine.targets("REP999")
    with pytest.raises(InputError) as huge:
        COACHING.validate_subject("REP" + "9" * 5000)
    assert len(str(huge.value)) < 120 and "\n" not in str(huge.value)


def test_a_fortnight_compares_with_the_fortnight_before(wh: EmbeddedWarehouse) -> None:
    fortnight = Week(W.start - dt.timedelta(days=7), 14)  # Nov 2 .. Nov 15, against Oct 19 .. Nov 1
    assert (fortnight.previous.start, fortnight.previous.end) == (dt.date(2026, 10, 19), dt.date(2026, 11, 1))
    jane = facts(wh, "Jane Smith", fortnight)
    now, before = (
        period_figures(wh, jane.rep_id, fortnight),
        period_figures(wh, jane.rep_id, fortnight.previous),
    )
    assert (jane.current.calls, jane.previous.calls) == (now["calls"], before["calls"])
    h = COACHING.headline(jane)
    assert h.score_points == half_up(now["overall_score"]) and h.previous_points == half_up(
        before["overall_score"]
    )
    assert h.verdict_reasons[0].endswith(f"from {h.previous_points} the previous 14 days")
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, LocalAnalyst(wh), kind=COACHING)
    report = engine.generate([Target(jane.rep_id, jane.rep_id)], fortnight).reports[jane.rep_id]
    assert report.report_id == "coaching:REP001-20261102-20261115"
    assert report.full_report.splitlines()[2].startswith("Period Nov 02 – Nov 15, 2026 (14 days)")
    assert "the previous 14 days)" in report.full_report


def test_a_failed_section_leaves_a_partial_review_that_says_which(wh: EmbeddedWarehouse) -> None:
    agent = ScriptedAgent({"objections": AgentUnavailable("HTTP 503")}, otherwise=LocalAnalyst(wh))
    engine = ReportEngine(Settings(home=wh.home, today=AS_OF), wh, agent, kind=COACHING)
    hannah = rep_id(wh, "Hannah Kim")
    # The week before: this module's run stored a complete review of W, which a partial
    # regeneration would not replace.
    report = engine.generate([Target(hannah, hannah)], W.previous).reports[hannah]
    assert report.status == "partial" and [s.key for s in report.failed_sections] == ["objections"]
    assert "> **Incomplete report:** Recurring Objections could not be generated." in report.full_report
    assert "_This section could not be generated: HTTP 503_" in report.full_report
    assert "_partial: Recurring Objections could not be generated_" in slack_parent(report).text


def test_malformed_highlights_and_labels_are_left_out_not_fatal(wh: EmbeddedWarehouse) -> None:
    jane = rep_id(wh, "Jane Smith")
    call = wh.scalar(
        f"SELECT call_id FROM {C}.calls WHERE rep_id = ? AND started_at >= ? ORDER BY started_at LIMIT 1",
        [jane, W.start],
    )

    class Undo(Exception):
        pass

    with pytest.raises(Undo), wh.transaction():
        wh.execute(
            f"INSERT INTO {C}.coaching_sessions (session_id, call_id, rep_id, created_at, product_knowledge, "
            "discovery, objection_handling, engagement, overall_score, objections, highlights) "
            "SELECT 'SES-X', ?, ?, CAST(? AS TIMESTAMP_NTZ), 70, 70, 70, 70, 70, "
            'PARSE_JSON(\'["pricing", null]\'), PARSE_JSON(\'[{"objection": "pricing", "quote": "no moment"}]\')',
            [call, jane, W.start],
        )
        f = COACHING.facts(wh, W, [jane]).get(jane)
        assert f is not None and "None" not in [o.label for o in f.objections]
        pricing = f.objection("pricing")
        assert pricing is not None and all(e.raised.quote != "no moment" for e in pricing.examples)
        assert section_text("objections", f)
        raise Undo


def test_a_company_side_rep_without_a_manager_gets_a_review_seen_by_themself_and_admins(
    wh: EmbeddedWarehouse,
) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), wh.transaction():
        wh.execute(
            f"INSERT INTO {C}.speakers VALUES ('REP900', 'Solo Rep', 'solo.rep@example.com', TRUE, NULL, NULL, NULL)"
        )
        wh.execute(
            f"INSERT INTO {C}.calls VALUES ('CALL-SOLO-1', 'REP900', 'Discovery call', 'Northwind Traders', "
            "CAST(? AS TIMESTAMP_NTZ), 1800)",
            [dt.datetime.combine(W.start, dt.time(15, 0))],
        )
        assert "REP900" in [t.subject_id for t in COACHING.active_targets(wh, W)]
        assert "REP900" in [t.subject_id for t in COACHING.targets(wh)]
        assert [(t.recipient_id, t.subject_id) for t in COACHING.targets(wh, subject_id="REP900")] == [
            ("REP900", "REP900")
        ]
        assert COACHING.known_subjects(wh)["REP900"] == "Solo Rep"
        # Managers are still not reps; no manager is invented for the solo rep.
        assert "MGR001" not in COACHING.known_subjects(wh)
        assert set(COACHING.managers(wh)) == {"MGR001", "MGR002"}
        COACHING.authorize(wh, Requester(is_admin=True), "REP900")
        COACHING.authorize(wh, Requester(email="solo.rep@example.com"), "REP900")
        COACHING.authorize(wh, Requester(csm_id="REP900"), "REP900")
        for requester in (Requester(email="olivia.bennett@example.com"), Requester(csm_id="MGR002")):
            with pytest.raises(NotAuthorized):
                COACHING.authorize(wh, requester, "REP900")
        solo = COACHING.facts(wh, W, ["REP900"]).get("REP900")
        assert solo is not None and solo.manager_id is None and solo.team is None
        assert solo.current.calls == 1
        text = {s.key: section_text(s.key, solo) for s in COACHING.sections}
        assert "Solo Rep has no manager on record" in text["scores"]
        assert all("None" not in t for t in text.values())
        raise Undo
    assert "REP900" not in COACHING.known_subjects(wh)


def test_no_reps_reason_when_every_company_side_speaker_manages_someone(wh: EmbeddedWarehouse) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), wh.transaction():
        wh.execute(f"UPDATE {C}.speakers SET company_side = FALSE WHERE speaker_id LIKE 'REP%'")
        assert COACHING.targets(wh) == [] and COACHING.active_targets(wh, W) == []
        reason = COACHING.no_reps_reason(wh, W)
        assert reason == "no reps in COACHING.speakers: every company_side speaker manages another speaker"
        raise Undo


def test_focus_areas_cite_distinct_relevant_moments_never_an_opener(wh: EmbeddedWarehouse) -> None:
    """Every demo rep, over the report week and the four before it: each cited moment is a
    transcript line of the cited call, no two focus areas of a review cite the same moment,
    none cites the call's opening (the rep's greeting, the customer's opener), and objection
    handling cites a call whose session lists an objection, at that objection's words."""
    openers = set(OPENERS)
    reps = [t.subject_id for t in COACHING.targets(wh)]
    cited_any = 0
    for back in range(5):
        week = Week(W.start - dt.timedelta(days=7 * back))
        loaded = COACHING.facts(wh, week, reps)
        for rep_id_ in reps:
            f = loaded.get(rep_id_)
            assert f is not None
            cited = [(a, a.moment) for a in review(f).focus if a.moment is not None]
            keys = [(m.call_id, m.offset_seconds) for _, m in cited]
            assert len(keys) == len(set(keys)), (rep_id_, week.start, keys)
            for area, m in cited:
                cited_any += 1
                line = wh.query(
                    f"SELECT t.speaker_id, t.text FROM {C}.transcripts t JOIN {C}.calls c ON c.call_id = t.call_id "
                    "WHERE c.rep_id = ? AND t.call_id = ? AND t.offset_seconds = ?",
                    [rep_id_, m.call_id, m.offset_seconds],
                )
                assert [r["text"] for r in line] == [m.quote], (rep_id_, area.title, m)
                assert line[0]["speaker_id"] != rep_id_ and m.quote not in openers, (rep_id_, area.title, m)
                if area.key == "objection_handling":
                    said = wh.query(
                        f"SELECT h.value:objection::VARCHAR AS label FROM {C}.coaching_sessions s, "
                        "LATERAL FLATTEN(input => s.highlights) h "
                        "WHERE s.call_id = ? AND h.value:offset_seconds::INTEGER = ?",
                        [m.call_id, m.offset_seconds],
                    )
                    raised = wh.query(
                        f"SELECT o.value::VARCHAR AS label FROM {C}.coaching_sessions s, "
                        "LATERAL FLATTEN(input => s.objections) o WHERE s.call_id = ?",
                        [m.call_id],
                    )
                    assert said and said[0]["label"] in {r["label"] for r in raised}, (rep_id_, m)
                    assert area.answer is not None and area.answer.offset_seconds > m.offset_seconds
    assert cited_any > 20


def test_objection_handling_names_its_call_the_lowest_that_raised_an_objection(
    wh: EmbeddedWarehouse, week_facts: CoachingFacts
) -> None:
    for f in week_facts.reps.values():
        for area in review(f).focus:
            if area.key == "objection_handling" and area.moment is not None:
                text = section_text("focus", f)
                assert (
                    f"({area.call_points}/100 on objection handling, the lowest of the period's calls "
                    "that raised an objection)" in text
                )
                return
    raise AssertionError("no demo rep's review cites a moment for objection handling")
