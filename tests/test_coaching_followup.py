"""Follow-up questions on a coaching review, answered by the local analyst from SQL over the
demo's coaching data. Every expected figure comes from SQL written here, not from the code
under test; every statement the answerer runs is checked by the guard for the thread's rep."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from core import ReportEngine, Requester, Settings
from core.agent.base import AskContext
from core.agent.local.analyst import LocalAnalyst
from core.engine import MAX_QUESTION, validate_question
from core.errors import InputError, NotAuthorized
from core.guard.sql import check_statement
from core.kinds import COACHING as COACHING_KIND
from core.kinds.base import LocalAnswer
from core.kinds.coaching.facts import ONE_LINE, load_facts
from core.kinds.coaching.followup import EXAMPLES, answer
from core.kinds.coaching.followup_intent import parse
from core.kinds.coaching.scope import COACHING_SCOPE
from core.kinds.coaching.sections import review, section_text
from core.warehouse.base import COACHING
from core.warehouse.embedded import EmbeddedWarehouse
from core.weeks import Week, last_complete_week
from tests.conftest import AS_OF

W = last_complete_week(AS_OF)  # Mon 2026-11-09 .. Sun 2026-11-15
AISHA, DAVID, PRIYA, TOM, LUCAS = "REP005", "REP002", "REP003", "REP004", "REP006"
JANE = "REP001"
NAMES = {JANE: "Jane Smith", AISHA: "Aisha Okafor", DAVID: "David Park", PRIYA: "Priya Natarajan",
         TOM: "Tom Alvarez", LUCAS: "Lucas Meyer"}  # fmt: skip
DIMENSIONS = ("product_knowledge", "discovery", "objection_handling", "engagement")
DAY = dt.timedelta(days=1)


class RecordingWarehouse(EmbeddedWarehouse):
    """The embedded warehouse, keeping every statement it was asked with its parameters, so a
    test can hand the guard each statement as it ran (parameters inlined)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.ran: list[tuple[str, tuple[Any, ...]]] = []

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.ran.append((sql, tuple(params)))
        return super().fetch(sql, params)


@pytest.fixture(scope="module")
def wh(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingWarehouse]:
    home = tmp_path_factory.mktemp("coaching-followup") / "home"
    shutil.copytree(demo_template, home)
    with RecordingWarehouse(home) as warehouse:
        yield warehouse


def ask(wh: RecordingWarehouse, question: str, rep: str = AISHA, week: Week = W) -> LocalAnswer:
    """The answer, after checking that it shows every statement it ran and that each passes the
    guard for `rep` (and would not for another rep). The focus answer is the review's own
    focus areas: its statements are the kind's facts' (which read the team's averages too)."""
    wh.ran.clear()
    reply = answer(wh, question, AskContext(rep, NAMES[rep], "Marcus Reid", week, kind="coaching"))
    assert reply.sql == [" ".join(sql.split()) for sql, _ in wh.ran]
    if reply.sql == list(ONE_LINE.values()):
        return reply
    for sql, params in wh.ran:
        inlined = inline(sql, params)
        assert check_statement(inlined, COACHING_SCOPE, rep) is None, inlined
        assert check_statement(inlined, COACHING_SCOPE, "REP999") == (
            "foreign_subject",
            "a statement names another subject's id",
        )
    return reply


def inline(sql: str, params: Sequence[Any]) -> str:
    values = iter(params)

    def literal(_: re.Match[str]) -> str:
        value = next(values)
        if isinstance(value, int):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    return re.sub(r"\?", literal, sql)


def shown_day(when: dt.datetime) -> str:
    """A call's date as the review writes it: "Mon Nov 9"."""
    return f"{when:%a %b} {when.day}"


def half_up(value: Any) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def sessions(wh: EmbeddedWarehouse, rep: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The rep's calls started from `start` to `end` (inclusive) with their sessions' scores."""
    return wh.query(
        f"SELECT c.call_id, c.title, c.customer_name, c.started_at, s.session_id, s.overall_score, "
        f"s.product_knowledge, s.discovery, s.objection_handling, s.engagement, s.objections "
        f"FROM {COACHING}.calls c LEFT JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id "
        "WHERE c.rep_id = ? AND c.started_at >= ? AND c.started_at < ? ORDER BY c.started_at",
        [rep, start, end + DAY],
    )


def average(wh: EmbeddedWarehouse, rep: str, column: str, start: dt.date, end: dt.date) -> float | None:
    value = wh.scalar(
        f"SELECT AVG(s.{column}) FROM {COACHING}.coaching_sessions s JOIN {COACHING}.calls c "
        "ON c.call_id = s.call_id WHERE c.rep_id = ? AND c.started_at >= ? AND c.started_at < ?",
        [rep, start, end + DAY],
    )
    return None if value is None else float(value)


def with_label(
    wh: EmbeddedWarehouse, rep: str, label: str, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    return [
        r
        for r in sessions(wh, rep, start, end)
        if r["objections"] and label in re.findall(r'"(\w+)"', str(r["objections"]))
    ]


# --- objections ------------------------------------------------------------------------------


def test_which_calls_had_pricing_objections_lists_exactly_those_calls(wh: RecordingWarehouse) -> None:
    expected = with_label(wh, AISHA, "pricing", W.start, W.end)
    assert len(expected) >= 3
    reply = ask(wh, "Which calls had pricing objections?")
    assert reply.text.startswith(f"**{len(expected)} calls with a “pricing” objection** in the review week")
    listed = [line for line in reply.text.splitlines() if line.startswith("- ")]
    assert len(listed) == len(expected)
    for line, call in zip(listed, expected, strict=True):
        assert line.startswith(
            f"- {shown_day(call['started_at'])}: *{call['title']}* with {call['customer_name']} "
        )
        assert f"overall {call['overall_score']}/100" in line
    assert reply.sources == [c["call_id"] for c in expected]
    assert len(reply.sql) == 1
    # "price" is the pricing label, and so are plurals and "objections about ..."
    assert ask(wh, "any price objections this week?").text == reply.text
    assert ask(wh, "Which calls had objections about pricing?").text == reply.text


def test_an_objection_no_call_had_says_so_and_names_those_recorded(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "Which calls had legal objections?")
    first, rest = reply.text.split("\n\n", 1)
    assert (
        first
        == "No call of Aisha Okafor's had a “legal” objection in the review week (Nov 09 – Nov 15, 2026)."
    )
    labels = wh.query(
        f"SELECT LOWER(o.value::VARCHAR) AS label, COUNT(DISTINCT c.call_id) AS n FROM {COACHING}.calls c "
        f"JOIN {COACHING}.coaching_sessions s ON s.call_id = c.call_id, LATERAL FLATTEN(input => s.objections) o "
        "WHERE c.rep_id = ? AND c.started_at >= ? AND c.started_at < ? GROUP BY 1",
        [AISHA, W.start, W.end + DAY],
    )
    for row in labels:
        assert f"- {row['label']}: {row['n']} call" in rest


def test_objections_of_a_calendar_month_are_counted(wh: RecordingWarehouse) -> None:
    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    reply = ask(wh, "What objections did I get in October?")
    assert reply.text.startswith("**Objections in October 2026 (Oct 01 – Oct 31, 2026)**")
    for label in ("pricing", "timing", "competitor"):
        n = len(with_label(wh, AISHA, label, *october))
        if n:
            assert f"- {label}: {n} call{'s' if n > 1 else ''}" in reply.text


# --- score moves -------------------------------------------------------------------------------


def test_discovery_over_the_last_month_is_four_weeks_of_sql_averages(wh: RecordingWarehouse) -> None:
    rep = JANE  # improving
    reply = ask(wh, "How did my discovery score move over the last month?", rep)
    weeks = [W.start - dt.timedelta(weeks=k) for k in (3, 2, 1, 0)]
    figures = [half_up(average(wh, rep, "discovery", w, w + 6 * DAY)) for w in weeks]
    assert (
        f"**Discovery, week by week**: {figures[0]} → {figures[-1]}/100 ({figures[-1] - figures[0]:+d})"
        in reply.text
    )
    for w, figure in zip(weeks, figures, strict=True):
        assert re.search(rf"^- {w:%b %d} – {w + 6 * DAY:%b %d}: {figure}/100 \(\d+ coaching sessions?\)$",
                         reply.text, re.M)  # fmt: skip
    whole = half_up(average(wh, rep, "discovery", weeks[0], W.end))
    assert f"- Whole period: {whole}/100" in reply.text
    assert "_Period read as the last 4 weeks._" in reply.text
    assert "Overall" not in reply.text and "Engagement" not in reply.text


def test_days_not_on_a_monday_are_shown_in_the_reviews_monday_to_sunday_weeks(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "How did my overall score move in the last 30 days?")
    first = W.end - dt.timedelta(days=29)  # Sat Oct 17
    assert reply.text.startswith("**Aisha Okafor over the last 30 days (Oct 17 – Nov 15, 2026)**")
    assert re.search(r"^- Oct 17 – Oct 18: (no sessions|\d+/100 .*)$", reply.text, re.M)
    for k in range(4):
        monday = dt.date(2026, 10, 19) + dt.timedelta(weeks=k)
        figure = half_up(average(wh, AISHA, "overall_score", monday, monday + 6 * DAY))
        assert re.search(rf"^- {monday:%b %d} – {monday + 6 * DAY:%b %d}: {figure}/100 \(", reply.text, re.M)
    whole = half_up(average(wh, AISHA, "overall_score", first, W.end))
    assert f"- Whole period: {whole}/100" in reply.text


@pytest.mark.parametrize("question", ["How did my scores change this week vs last?", "how did I do?"])
def test_this_week_against_the_previous_week_every_dimension(wh: RecordingWarehouse, question: str) -> None:
    reply = ask(wh, question)
    for column, label in [*zip(DIMENSIONS, ("Product knowledge", "Discovery", "Objection handling",
                                             "Engagement"), strict=True), ("overall_score", "Overall score")]:  # fmt: skip
        now = half_up(average(wh, AISHA, column, W.start, W.end))
        then = half_up(average(wh, AISHA, column, W.previous.start, W.previous.end))
        move = "no change" if now == then else f"{now - then:+d}"
        assert f"- {label}: **{now}/100** ({move}; was {then}/100)" in reply.text


def test_a_new_rep_has_no_previous_week_to_compare_with(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "what was my overall score?", PRIYA)
    now = half_up(average(wh, PRIYA, "overall_score", W.start, W.end))
    assert f"- Overall score: **{now}/100** (new: no sessions the period before)" in reply.text


def test_a_rep_without_calls_gets_an_honest_no(wh: RecordingWarehouse) -> None:
    assert ask(wh, "What was my discovery score?", TOM).text == (
        "Tom Alvarez had no coaching sessions in the review week (Nov 09 – Nov 15, 2026), so no scores."
    )
    assert ask(wh, "How many calls did I have?", TOM).text == (
        "Tom Alvarez had no calls in the review week (Nov 09 – Nov 15, 2026)."
    )
    assert ask(wh, "What should I focus on?", TOM).text.startswith("No coaching sessions for Tom Alvarez")


# --- moments ------------------------------------------------------------------------------------


def test_where_i_handled_the_pricing_objection_quotes_the_transcript(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "Show me where I handled the pricing objection")
    assert reply.text.startswith("**Where Aisha Okafor handled the “pricing” objection** (")
    moments = re.findall(
        r"^- \*(.+?)\* with (.+?), (\w{3} \w{3} \d\d?), at (\d+):(\d\d) into the call\n  > (.+?): “(.+?)”\n"
        r"  > Aisha Okafor: “(.+?)”$",
        reply.text,
        re.M,
    )
    assert len(moments) == 3  # the latest three of the week's
    calls = {c["call_id"]: c for c in with_label(wh, AISHA, "pricing", W.start, W.end)}
    for (title, customer, day, mm, ss, speaker, quote, reply_text), call_id in zip(
        moments, reply.sources, strict=True
    ):
        call = calls[call_id]
        assert (title, customer, day) == (
            call["title"],
            call["customer_name"],
            f"{shown_day(call['started_at'])}",
        )
        offset = int(mm) * 60 + int(ss)
        said = wh.query(
            f"SELECT t.text, t.speaker_id, s.name FROM {COACHING}.transcripts t JOIN {COACHING}.speakers s "
            "ON s.speaker_id = t.speaker_id WHERE t.call_id = ? AND t.offset_seconds = ?",
            [call_id, offset],
        )
        assert [(r["text"], r["name"]) for r in said] == [(quote, speaker)] and said[0]["speaker_id"] != AISHA
        answered = wh.query(
            f"SELECT text FROM {COACHING}.transcripts WHERE call_id = ? AND speaker_id = ? AND offset_seconds > ? "
            "ORDER BY offset_seconds LIMIT 1",
            [call_id, AISHA, offset],
        )
        assert answered[0]["text"] == reply_text


def test_a_moment_outside_the_week_is_found_in_the_weeks_before_and_said_so(wh: RecordingWarehouse) -> None:
    assert not with_label(wh, AISHA, "budget", W.start, W.end)
    earlier = with_label(wh, AISHA, "budget", W.start - dt.timedelta(weeks=11), W.end)
    reply = ask(wh, "show me where I handled the budget objection")
    assert f"({len(earlier)} moment" in reply.text.splitlines()[0]
    assert "_None in the review week (Nov 09 – Nov 15, 2026); the latest from the last 12 weeks" in reply.text
    assert reply.sources[0] == earlier[-1]["call_id"]  # the latest first


def test_the_reps_answer_comes_from_the_transcript_when_the_highlight_has_none(
    wh: RecordingWarehouse,
) -> None:
    """A session whose highlights hold only the customer's words: the rep's next transcript line."""
    call = "CALL-REP005-20260601-0"
    wh.execute(
        f"INSERT INTO {COACHING}.calls VALUES (?, ?, 'Budget review', 'Coho Winery', '2026-06-02 15:00:00', 1800)",
        [call, AISHA],
    )
    wh.execute(
        f"INSERT INTO {COACHING}.coaching_sessions SELECT 'SES-X', ?, ?, '2026-06-02 16:00:00', 70, 70, 70, 70, 70, "
        'PARSE_JSON(\'["budget"]\'), PARSE_JSON(\'[{"offset_seconds": 300, "speaker_id": "CON017", '
        '"speaker": "Isabel Moreau", "quote": "No budget until spring.", "objection": "budget"}]\')',
        [call, AISHA],
    )
    for offset, speaker, text in ((300, "CON017", "No budget until spring."), (330, AISHA, "Then let us plan a "
                                  "spring start."), (400, AISHA, "Anything else?")):  # fmt: skip
        wh.execute(
            f"INSERT INTO {COACHING}.transcripts VALUES (?, ?, ?, ?, ?)", [call, speaker, offset, text, AISHA]
        )
    reply = ask(wh, "Show me where I handled the budget objection in June")
    assert "- *Budget review* with Coho Winery, Tue Jun 2, at 05:00 into the call" in reply.text
    assert (
        "  > Isabel Moreau: “No budget until spring.”\n  > Aisha Okafor: “Then let us plan a spring start.”"
        in reply.text
    )
    assert any("FROM CUSTOMER_SUCCESS_DATA.COACHING.transcripts" in sql for sql in reply.sql)


# --- focus, calls, best and worst ----------------------------------------------------------------


def test_what_to_focus_on_is_the_reviews_own_focus_areas(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "What should I focus on?", LUCAS)
    rep = load_facts(wh, W, [LUCAS]).get(LUCAS)
    assert rep is not None
    assert reply.text.startswith(
        "**Focus areas for Lucas Meyer**, from the review week (Nov 09 – Nov 15, 2026):\n\n"
    )
    assert reply.text.endswith(section_text("focus", rep).strip())
    assert re.search(r"^1\. \*\*Discovery", reply.text, re.M)  # Lucas's weak dimension, as the review says
    assert reply.sources == list(dict.fromkeys(a.moment.call_id for a in review(rep).focus if a.moment))
    # Another period: the focus areas a review of that period writes.
    month = Week(W.end - dt.timedelta(days=27), 28)
    other = ask(wh, "What should I focus on, looking at the last 4 weeks?", LUCAS)
    of_month = load_facts(wh, month, [LUCAS]).get(LUCAS)
    assert of_month is not None
    assert other.text.startswith(
        "**Focus areas for Lucas Meyer**, from the last 4 weeks (Oct 19 – Nov 15, 2026):"
    )
    assert section_text("focus", of_month).strip() in other.text


def test_scores_agree_with_the_reviews_headline(wh: RecordingWarehouse) -> None:
    for rep in (JANE, AISHA, LUCAS):
        headline = COACHING_KIND.headline(load_facts(wh, W, [rep]).get(rep))
        reply = ask(wh, "What was my overall score?", rep)
        assert f"- Overall score: **{headline.score_points}/100** (" in reply.text
        if headline.trend is not None:
            move = "no change" if headline.trend == 0 else f"{headline.trend:+d}"
            assert f"({move}; was {headline.previous_points}/100)" in reply.text


def test_how_many_calls_counts_and_lists_them(wh: RecordingWarehouse) -> None:
    expected = sessions(wh, AISHA, W.start, W.end)
    scored = [c for c in expected if c["session_id"]]
    reply = ask(wh, "How many calls did I have last week?")
    assert reply.text.startswith(
        f"**{len(expected)} calls** in the review week (Nov 09 – Nov 15, 2026), {len(scored)} with a coaching session:"
    )
    assert len([line for line in reply.text.splitlines() if line.startswith("- ")]) == len(expected)
    assert "not scored" in reply.text  # one of the week's calls has no session
    assert ask(wh, "list my calls").text == reply.text


@pytest.mark.parametrize(("question", "column", "worst"), [
    ("What was my best call?", "overall_score", False),
    ("Which was my worst call this week?", "overall_score", True),
    ("my lowest discovery call?", "discovery", True),
])  # fmt: skip
def test_best_and_worst_call(wh: RecordingWarehouse, question: str, column: str, worst: bool) -> None:
    calls = [c for c in sessions(wh, AISHA, W.start, W.end) if c["session_id"]]
    scores = [c[column] for c in calls]
    pick = next(c for c in calls if c[column] == (min(scores) if worst else max(scores)))
    reply = ask(wh, question)
    assert (
        f"*{pick['title']}* with {pick['customer_name']} ({shown_day(pick['started_at'])}), {pick[column]}/100"
        in reply.text
    )
    assert reply.sources == [pick["call_id"]]


# --- refusals and what is not understood -----------------------------------------------------------


@pytest.mark.parametrize("question", [
    "What's REP002's discovery score?",
    "How did David do last week?",
    "Show me David's calls",
    "who on my team has the best discovery?",
    "how do I compare to the team average?",
    "list every rep's pricing objections",
    "rank the team by overall score",
])  # fmt: skip
def test_another_rep_or_the_team_is_refused_in_one_line_and_nothing_is_read(
    wh: RecordingWarehouse, question: str
) -> None:
    reply = ask(wh, question)
    assert reply.text == (
        "This thread is Aisha Okafor's review (REP005): I answer only about Aisha Okafor's own calls and "
        "scores, never another rep's or the team's individual scores."
    )
    assert reply.sql == [] and wh.ran == []


def test_the_reps_own_id_and_name_are_not_someone_else(wh: RecordingWarehouse) -> None:
    assert "only about" not in ask(wh, "What was REP005's discovery score?").text
    assert "only about" not in ask(wh, "What was Aisha's discovery score?").text
    assert "only about" not in ask(wh, "What did Northwind's CFO object to?").text


@pytest.mark.parametrize("question", ["tell me a joke", "Hello", "x" * 1500])
def test_anything_not_understood_gets_one_line_of_examples(wh: RecordingWarehouse, question: str) -> None:
    reply = ask(wh, question)
    assert "\n" not in reply.text and reply.sql == []
    assert "I can answer questions like " + ", ".join(f"“{e}”" for e in EXAMPLES) + "." in reply.text


def test_a_period_that_cannot_be_resolved_is_named_not_guessed(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "How did I do over the holidays?")
    assert reply.text.startswith("I can't tell which dates “the holidays” means") and reply.sql == []


def test_another_language_is_answered_in_one_line(wh: RecordingWarehouse) -> None:
    reply = ask(wh, "¿Cuántas llamadas tuve la semana pasada?")
    assert reply.text.startswith("I answer questions in English only") and reply.sql == []


def test_empty_and_huge_questions_stop_at_the_engines_validation() -> None:
    with pytest.raises(InputError) as empty:
        validate_question("   ")
    assert str(empty.value).startswith("the question is empty")
    with pytest.raises(InputError) as huge:
        validate_question("why " * MAX_QUESTION)
    assert (
        str(huge.value)
        == f"the question is {len('why ' * MAX_QUESTION) - 1} characters long; keep it under {MAX_QUESTION}"
    )


def test_a_review_of_a_longer_period_is_the_default_span_and_compares_with_as_many_days_before(
    wh: RecordingWarehouse,
) -> None:
    october = Week(dt.date(2026, 10, 1), 31)
    q = parse("which calls had pricing objections?", october, AISHA, NAMES[AISHA])
    assert (q.kind, q.span.start, q.span.end, q.span.name) == (
        "objections",
        october.start,
        october.end,
        "the review period",
    )
    reply = ask(wh, "What was my overall score?", AISHA, october)
    now = half_up(average(wh, AISHA, "overall_score", october.start, october.end))
    then = half_up(average(wh, AISHA, "overall_score", dt.date(2026, 8, 31), dt.date(2026, 9, 30)))
    assert reply.text.startswith("**Aisha Okafor's scores in the review period (Oct 01 – Oct 31, 2026)**")
    assert "against the 31 days before (Aug 31 – Sep 30, 2026)" in reply.text
    assert f"- Overall score: **{now}/100** (" in reply.text and f"was {then}/100)" in reply.text


# --- through the engine: the coaching kind with the local analyst -----------------------------------


@pytest.fixture
def coaching(demo_home: Path) -> Iterator[ReportEngine]:
    """The coaching engine with Aisha's review of the week generated by the local analyst."""
    warehouse = EmbeddedWarehouse(demo_home)
    with ReportEngine(
        Settings(home=demo_home, today=AS_OF), warehouse, LocalAnalyst(warehouse), kind=COACHING_KIND
    ) as engine:
        assert engine.generate(engine.targets(customer_id=AISHA), W).reports_generated == 1
        yield engine


def stored_followups(engine: ReportEngine) -> list[dict[str, Any]]:
    return engine.warehouse.query("SELECT question, answer, status, asked_by, sql_text FROM followups")


def test_a_follow_up_in_the_reviews_thread_is_answered_and_stored_with_its_sql(
    coaching: ReportEngine,
) -> None:
    result = coaching.ask(
        Requester(email="aisha.okafor@example.com"), AISHA, "which calls had pricing objections?"
    )
    expected = with_label(coaching.warehouse, AISHA, "pricing", W.start, W.end)
    assert result.answer.text.startswith(f"**{len(expected)} calls with a “pricing” objection**")
    [row] = stored_followups(coaching)
    assert (row["status"], row["answer"], row["asked_by"]) == (
        "answered",
        result.answer.text,
        "aisha.okafor@example.com",
    )
    assert row["sql_text"] == "\n;\n".join(result.answer.sql) and "LATERAL FLATTEN" in row["sql_text"]
    # Her manager may ask in her review too; another rep may not, and nothing is stored for them.
    assert coaching.ask(Requester(email="marcus.reid@example.com"), AISHA, "How many calls?").answer.text
    with pytest.raises(NotAuthorized):
        coaching.ask(Requester(email="david.park@example.com"), AISHA, "How many calls?")
    assert len(stored_followups(coaching)) == 2


@pytest.mark.parametrize(("question", "message"), [
    ("   ", "the question is empty"),
    ("why " * MAX_QUESTION, "the question is 7999 characters long; keep it under 2000"),
])  # fmt: skip
def test_an_empty_or_huge_question_is_refused_in_one_line_and_nothing_is_stored(
    coaching: ReportEngine, question: str, message: str
) -> None:
    with pytest.raises(InputError) as refused:
        coaching.ask(Requester(email="aisha.okafor@example.com"), AISHA, question)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    assert stored_followups(coaching) == []
