"""Report periods: `Week(start, days)`, `parse_range`, and reports of one start with different
ends stored side by side (engine, embedded warehouse, and Snowflake's protocol via fakesnow),
with their ids, thread links and email ledger keys naming the end."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.channels.base import Parcel, Recipient
from bot.channels.email.channel import ledger_key
from bot.channels.email.render import message_id
from core import DeliveryStore, ReportEngine
from core.agent.local.analyst import LocalAnalyst
from core.agent.testing import ScriptedAgent
from core.errors import InputError, InvalidWeek
from core.kinds import COACHING, EBR
from core.models import Report, SectionResult
from core.storage import ReportStore
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS
from core.warehouse.base import COACHING as COACHING_SCHEMA
from core.weeks import Week, parse_range, period_of
from tests import test_kinds, test_snowflake_warehouse
from tests.conftest import AS_OF, REPORT_WEEK
from tests.test_kinds import IndustryDigest, revenue_line

# Fixtures of other modules, registered here under these names: the test kind (registered,
# with its templates), and a warehouse over fakesnow's Snowflake-protocol server.
kind = test_kinds.industry
server = test_snowflake_warehouse.server
fakesnow_warehouse = test_snowflake_warehouse.snowflake

D = dt.date
TODAY = AS_OF  # Wednesday 2026-11-18: the last complete week is Mon 2026-11-09 .. Sun 2026-11-15
WEEK = Week(REPORT_WEEK)
MONTH = Week(D(2026, 10, 1), 31)  # October, all 31 days

# --- Week(start, days) --------------------------------------------------------------------


def test_a_week_is_seven_days_and_a_period_keeps_its_length() -> None:
    assert Week(REPORT_WEEK) == Week(REPORT_WEEK, 7) and WEEK.end == D(2026, 11, 15)
    assert (WEEK.previous, WEEK.shift(2), WEEK.year_ago) == (
        Week(D(2026, 11, 2)),
        Week(D(2026, 11, 23)),
        Week(D(2025, 11, 10)),
    )
    assert (MONTH.end, MONTH.previous, MONTH.shift(1)) == (
        D(2026, 10, 31),
        Week(D(2026, 8, 31), 31),  # the 31 days just before: Aug 31 .. Sep 30
        Week(D(2026, 11, 1), 31),
    )
    assert MONTH.previous.end == MONTH.start - dt.timedelta(days=1)
    assert Week(D(2026, 11, 9), 1).end == D(2026, 11, 9)
    assert (WEEK.period_id, MONTH.period_id) == ("20261109", "20261001-20261031")
    assert MONTH.label() == "Oct 01 – Oct 31, 2026" and str(MONTH) == "2026-10-01"
    assert sorted([Week(D(2026, 11, 9), 30), WEEK, Week(D(2026, 11, 2))]) == [
        Week(D(2026, 11, 2)),
        WEEK,
        Week(D(2026, 11, 9), 30),
    ]
    with pytest.raises(ValueError, match="at least one day"):
        Week(REPORT_WEEK, 0)


def test_a_stored_period_reads_back_from_its_start_and_end() -> None:
    assert period_of(D(2026, 11, 9), D(2026, 11, 15)) == WEEK  # every EBR row
    assert period_of(D(2026, 10, 1), D(2026, 10, 31)) == MONTH
    assert period_of(dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31)) == MONTH
    assert period_of(D(2026, 11, 9), None) == WEEK


# --- parse_range ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, WEEK),  # the last complete Monday–Sunday week
        ("2026-11-09", "2026-11-15", WEEK),
        ("2026-10-01", "2026-10-31", MONTH),  # 31 days: the limit, allowed
        ("2026-11-17", "2026-11-17", Week(D(2026, 11, 17), 1)),  # yesterday, one day
        (" 2026-11-03 ", None, Week(D(2026, 11, 3))),  # start only: that day and the six after
        (None, "2026-11-12", Week(D(2026, 11, 6))),  # end only: the six days before and that day
        ("2026-11-01", "2026-11-17", Week(D(2026, 11, 1), 17)),  # ends yesterday
    ],
)
def test_parse_range_accepts(start: str | None, end: str | None, expected: Week) -> None:
    assert parse_range(start, end, TODAY) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("soon", "2026-11-15", "the start date 'soon' is not a date; use YYYY-MM-DD"),
        ("2026-11-09", "2026-13-01", "the end date '2026-13-01' is not a date"),
        ("2026-11-09\nDROP TABLE x", None, "the start date '2026-11-09 DROP TABLE x' is not a date"),
        ("", None, "the start date '' is not a date"),
        ("2026-11-15", "2026-11-09", "the range ends on 2026-11-09, before it starts on 2026-11-15"),
        (
            "2026-10-01",
            "2026-11-01",
            "the range 2026-10-01 to 2026-11-01 is 32 days long; the limit is 31 days",
        ),
        ("2026-11-09", "2026-11-18", "has not ended yet; it must end by 2026-11-17"),  # ends today
        ("2026-11-16", None, "the range 2026-11-16 to 2026-11-22 has not ended yet"),  # this week
        (None, "2026-12-25", "has not ended yet"),
    ],
)
def test_parse_range_refuses_with_one_line(start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(InvalidWeek) as raised:
        parse_range(start, end, TODAY)
    text = str(raised.value)
    assert message in text and "\n" not in text and len(text) < 200
    assert isinstance(raised.value, InputError)  # the CLI's exit 2


def test_parse_range_takes_a_smaller_limit() -> None:
    assert parse_range("2026-11-01", "2026-11-14", TODAY, max_days=14).days == 14
    with pytest.raises(InvalidWeek, match="15 days long; the limit is 14 days"):
        parse_range("2026-11-01", "2026-11-15", TODAY, max_days=14)


# --- ids and ledger keys --------------------------------------------------------------------


def test_ids_and_email_keys_name_the_end_only_for_a_period_other_than_a_week(
    kind: IndustryDigest,
) -> None:
    assert kind.report_id("Retail", WEEK) == "industry:Retail-20261109"
    assert kind.report_id("Retail", MONTH) == "industry:Retail-20261001-20261031"
    assert EBR.report_id("CUST_12345", WEEK) == "CUST_12345-20261109"  # the EBR's ids as ever
    rep = Recipient("REP001", "Jane Smith", "jane@example.com")
    week, month = (Parcel("coaching", w, rep, ()) for w in (WEEK, MONTH))
    assert ledger_key(week) == ("email:coaching:20261109:REP001", "email:jane@example.com")
    assert ledger_key(month) == ("email:coaching:20261001-20261031:REP001", "email:jane@example.com")
    assert message_id(week, "Reports <reports@example.com>") == (
        "<weekly-report.coaching.20261109.REP001@example.com>"
    )
    assert message_id(month, "reports@example.com") == (
        "<weekly-report.coaching.20261001-20261031.REP001@example.com>"
    )


# --- one start, two ends, side by side ------------------------------------------------------


def _report(kind: IndustryDigest, subject: str, week: Week, text: str, status: str = "complete") -> Report:
    section = SectionResult("summary", "Summary", 1, text, None, status)
    return Report(
        report_id=kind.report_id(subject, week), csm_id="admins", customer_id=subject, customer_name=subject,
        industry="", week=week, status=status, sections=[section], headline=None, agent_thread_id=None,
        last_message_id=None, generated_at=None, full_report=f"# {text}", kind=kind.name,
    )  # fmt: skip


def _side_by_side(warehouse: Warehouse, kind: IndustryDigest) -> None:
    """Two reports of one subject and start with different ends are two rows, each read,
    reused, refreshed and linked to its thread on its own."""
    store = ReportStore(warehouse)
    week, fortnight = Week(D(2026, 11, 2)), Week(D(2026, 11, 2), 14)
    first = _report(kind, "Retail", week, "the week", "partial")
    second = _report(kind, "Retail", fortnight, "the fortnight")
    assert store.save([first, second]) == sorted([first.report_id, second.report_id])
    assert store.save([_report(kind, "Retail", week, "the week again")]) == [
        first.report_id
    ]  # partial: replaced
    assert store.save([_report(kind, "Retail", fortnight, "ignored")]) == []  # complete: kept
    assert store.statuses(["Retail"], week, kind.name) == {"Retail": "complete"}
    assert store.statuses(["Retail"], Week(D(2026, 11, 2), 10), kind.name) == {}
    assert store.load("Retail", week, kind.name).sections[0].content == "the week again"
    loaded = store.load("Retail", fortnight, kind.name)
    assert (loaded.week, loaded.report_id, loaded.sections[0].content) == (
        fortnight,
        "industry:Retail-20261102-20261115",
        "the fortnight",
    )
    assert store.load("Retail", None, kind.name).week == fortnight  # the latest: the one ending last
    assert store.load_many(["Retail"], week, kind.name)["Retail"].week == week
    rows = warehouse.query(
        f"SELECT report_week_start, report_week_end FROM {ANALYTICS}.weekly_reports "
        "WHERE report_kind = ? ORDER BY report_week_end",
        [kind.name],
    )
    assert [(r["report_week_start"], r["report_week_end"]) for r in rows] == [
        (D(2026, 11, 2), D(2026, 11, 8)),
        (D(2026, 11, 2), D(2026, 11, 15)),
    ]
    sections = warehouse.scalar(f"SELECT COUNT(*) FROM {ANALYTICS}.report_sections")
    assert sections == 2

    ledger = DeliveryStore(warehouse)
    for report, ts in ((first, "1.000100"), (second, "1.000200")):
        ledger.claim(report.report_id, "admins")
        ledger.posted(report.report_id, "admins", "D0ADMIN", ts)
    link = ledger.thread("D0ADMIN", "1.000200")
    assert link is not None
    assert (link.report_id, link.customer_id, link.week, link.kind) == (
        second.report_id,
        "Retail",
        fortnight,
        "industry",
    )
    link = ledger.thread("D0ADMIN", "1.000100")
    assert link is not None and (link.week, link.kind) == (week, "industry")


def test_two_ends_side_by_side_on_the_embedded_warehouse(engine: ReportEngine, kind: IndustryDigest) -> None:
    _side_by_side(engine.warehouse, kind)


def test_two_ends_side_by_side_over_snowflakes_protocol(
    fakesnow_warehouse: Warehouse, kind: IndustryDigest
) -> None:
    _side_by_side(fakesnow_warehouse, kind)
    assert fakesnow_warehouse.scalar("SELECT COUNT(*) FROM weekly_reports_stage") == 0


def test_the_engine_generates_one_start_with_two_ends(engine: ReportEngine, kind: IndustryDigest) -> None:
    digest = ReportEngine(engine.settings, engine.warehouse, ScriptedAgent(revenue_line), kind=kind)
    targets = digest.targets()
    week, weekdays = WEEK, Week(REPORT_WEEK, 5)  # Mon..Sun, and Mon..Fri of the same week
    runs = {w: digest.generate(targets, w) for w in (week, weekdays)}
    assert all(r.status == "completed" and r.reports_generated == len(targets) for r in runs.values())

    for w in (week, weekdays):
        expected = {
            r[
                "industry"
            ]: f"{r['industry']}: {int(r['conversions'])} conversions, revenue {float(r['revenue']):.2f}"
            for r in engine.warehouse.query(
                f"SELECT c.industry, COUNT(*) AS conversions, SUM(v.revenue) AS revenue "
                f"FROM {ANALYTICS}.conversions v JOIN {ANALYTICS}.customers c USING (customer_id) "
                "WHERE v.conversion_date BETWEEN ? AND ? GROUP BY 1",
                [w.start, w.end],
            )
        }
        stored = {t.subject_id: digest.store.load(t.subject_id, w, kind.name) for t in targets}
        assert {s: r.sections[0].content for s, r in stored.items()} == {
            s: expected.get(s, f"{s}: 0 conversions, revenue 0.00") for s in stored
        }
        assert {r.week for r in stored.values()} == {w}
    retail = {w: digest.store.load("Retail", w, kind.name) for w in (week, weekdays)}
    assert retail[week].sections[0].content != retail[weekdays].sections[0].content  # the weekend's sales
    assert retail[weekdays].report_id == "industry:Retail-20261109-20261113"

    again = {w: digest.generate(targets, w) for w in (week, weekdays)}  # each range reuses its own
    assert all((r.reports_generated, r.reports_reused) == (0, len(targets)) for r in again.values())
    assert engine.store.statuses(["CUST_12345"], WEEK) == {}  # no EBR appeared


def test_coaching_reviews_of_one_start_with_two_ends_live_side_by_side(engine: ReportEngine) -> None:
    """The coaching kind through the engine: a rep's week and the fortnight from the same
    Monday are two reviews, each with its own calls, id and (re-)use."""
    coaching = ReportEngine(engine.settings, engine.warehouse, LocalAnalyst(engine.warehouse), kind=COACHING)
    week, fortnight = Week(D(2026, 11, 2)), Week(D(2026, 11, 2), 14)
    rep = COACHING.active_targets(engine.warehouse, week)[0].subject_id  # one rep keeps it quick
    targets = {w: COACHING.active_targets(engine.warehouse, w, [rep]) for w in (week, fortnight)}
    runs = {w: coaching.generate(targets[w], w) for w in (week, fortnight)}
    assert all(runs[w].reports_generated == len(targets[w]) == 1 for w in runs)
    stored = {w: coaching.store.load(rep, w, "coaching") for w in (week, fortnight)}
    assert [stored[w].report_id for w in (week, fortnight)] == [
        f"coaching:{rep}-20261102",
        f"coaching:{rep}-20261102-20261115",
    ]
    calls = {
        w: engine.warehouse.scalar(
            f"SELECT COUNT(*) FROM {COACHING_SCHEMA}.calls WHERE rep_id = ? "
            "AND started_at >= CAST(? AS TIMESTAMP_NTZ) AND started_at < CAST(? AS TIMESTAMP_NTZ)",
            [rep, w.start, w.end + dt.timedelta(days=1)],
        )
        for w in (week, fortnight)
    }
    assert calls[fortnight] > calls[week] > 0
    for w in (week, fortnight):
        headline = stored[w].headline
        assert stored[w].week == w and headline is not None and headline.as_dict()["calls"] == calls[w]
    again = {w: coaching.generate(targets[w], w) for w in (week, fortnight)}
    assert all((again[w].reports_generated, again[w].reports_reused) == (0, len(targets[w])) for w in again)
