"""The team rollup: stored headline figures per CSM and customer, notes for what went wrong,
and Slack's limits kept however large the team."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.mrkdwn import BLOCK_TEXT_LIMIT, MAX_BLOCKS, SlackMessage
from bot.slack.rollup import FLAGS, NO_FLAG, rollup_messages
from core import CsmRollup, Pause, Preferences, ReportEngine, RollupRow, Week
from core.format import change, money, number, pct
from core.models import Headline
from core.rollup import collect_rollup
from tests.conftest import AS_OF, REPORT_WEEK

WEEK = Week(REPORT_WEEK)
TEAM = {
    "CSM001": ("Sarah Johnson", ["CUST_12345", "CUST_23456", "CUST_34567"]),
    "CSM002": ("Michael Chen", ["CUST_45678", "CUST_56789"]),
    "CSM003": ("Emma Rodriguez", ["CUST_67890", "CUST_78901"]),
    "CSM004": ("James Williams", ["CUST_89012", "CUST_90123"]),
}


@pytest.fixture
def reported(engine: ReportEngine) -> ReportEngine:
    engine.generate(engine.targets(), WEEK)
    return engine


def within_limits(messages: list[SlackMessage]) -> None:
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert len(m.text) < 4000
        assert m.blocks[0]["type"] == "header" and len(m.blocks[0]["text"]["text"]) <= 150
        for block in m.blocks[1:]:
            assert block["type"] == "section" and len(block["text"]["text"]) <= BLOCK_TEXT_LIMIT


def block_of(messages: list[SlackMessage], csm_id: str) -> str:
    [text] = [b["text"]["text"] for m in messages for b in m.blocks[1:] if f"({csm_id})" in b["text"]["text"]]
    return text


def line_of(block: str, customer_id: str) -> str:
    [line] = [line for line in block.splitlines() if f"({customer_id})" in line]
    return line


def test_every_customer_with_its_headline_figures_and_health(reported: ReportEngine) -> None:
    messages = rollup_messages(collect_rollup(reported.warehouse, WEEK), WEEK)
    assert len(messages) == 1
    within_limits(messages)
    [message] = messages
    assert message.blocks[0]["text"]["text"] == "Team rollup: week of Nov 09 – Nov 15, 2026"
    summary = message.blocks[1]["text"]["text"]
    assert summary.startswith("*9 customers* · 9 complete · health: ")
    assert "partial" not in summary and "failed" not in summary and "paused" not in summary
    for csm_id, (name, customers) in TEAM.items():
        block = block_of(messages, csm_id)
        assert block.startswith(f"*{name}* ({csm_id})\n")
        assert len(block.splitlines()) == 1 + len(customers)
        for customer_id in customers:
            report = reported.store.load(customer_id, WEEK)
            h = report.headline
            assert h is not None
            line = line_of(block, customer_id)
            assert line.startswith(f"• {FLAGS[h.health]} *{report.customer_name}* ({customer_id}) · ")
            for figure in (
                f"revenue {money(h.revenue)} {change(h.revenue_wow)}",
                f"conversions {number(h.conversions)} {change(h.conversions_wow)}",
                f"CTR {pct(h.click_through_rate)} {change(h.click_through_rate_wow)}",
                f"engagement {number(h.engagement_score, 1)} {change(h.engagement_score_wow)}",
            ):
                assert figure in line
            assert re.search(r"[▲▼▬] \d+\.\d%", line)
    health = [reported.store.load(c, WEEK).headline for _, cs in TEAM.values() for c in cs]
    counts = {label: sum(1 for h in health if h and h.health == label) for label in FLAGS}
    assert (
        f"health: {counts['Healthy']} healthy, {counts['Watch']} watch, {counts['At risk']} at risk"
        in summary
    )


def test_revenue_on_the_rollup_is_the_warehouses(reported: ReportEngine) -> None:
    revenue = reported.warehouse.scalar(
        "SELECT SUM(revenue) FROM conversions WHERE customer_id = ? AND conversion_date BETWEEN ? AND ?",
        ["CUST_12345", WEEK.start, WEEK.end],
    )
    messages = rollup_messages(collect_rollup(reported.warehouse, WEEK), WEEK)
    assert f"revenue {money(float(revenue))} " in line_of(block_of(messages, "CSM001"), "CUST_12345")


def test_failed_partial_missing_and_paused_are_noted(reported: ReportEngine) -> None:
    w = reported.warehouse
    partial, failed = "CUST_23456-20261109", "CUST_45678-20261109"
    w.execute("UPDATE report_sections SET status = 'failed', content = NULL, error = 'agent timed out' "
              "WHERE report_id = ? AND section_key = 'business_value'", [partial])  # fmt: skip
    w.execute("UPDATE weekly_reports SET status = 'partial' WHERE report_id = ?", [partial])
    w.execute("UPDATE report_sections SET status = 'failed', content = NULL WHERE report_id = ?", [failed])
    w.execute("UPDATE weekly_reports SET status = 'failed' WHERE report_id = ?", [failed])
    w.execute("DELETE FROM weekly_reports WHERE customer_id = 'CUST_90123'")
    prefs = Preferences(w, lambda: AS_OF)
    prefs.pause("CSM002", until=dt.date(2026, 12, 1))

    messages = rollup_messages(collect_rollup(w, WEEK, prefs.pauses(AS_OF)), WEEK)
    within_limits(messages)
    summary = messages[0].blocks[1]["text"]["text"]
    assert "*9 customers* · 6 complete · 1 partial · 1 failed · 1 without a report · " in summary
    assert summary.endswith("· 1 CSM paused\n_Week-over-week changes: ▲ up, ▼ down, ▬ flat. Health: "
                            ":large_green_circle: healthy, :large_yellow_circle: watch, :red_circle: at risk._")  # fmt: skip
    sarah = block_of(messages, "CSM001")
    assert line_of(sarah, "CUST_23456").endswith(
        " · _partial: Business Value Analysis could not be generated_"
    )
    assert "revenue $" in line_of(sarah, "CUST_23456")  # the figures are the engine's, not the agent's
    michael = block_of(messages, "CSM002")
    assert michael.startswith("*Michael Chen* (CSM002) · _Monday DMs paused until 2026-12-01_\n")
    assert line_of(michael, "CUST_45678").endswith(
        " · _report failed: Performance vs Benchmarks, Business Value Analysis, "
        "Recommendations & Best Practices could not be generated_".replace("&", "&amp;")
    )
    missing = line_of(block_of(messages, "CSM004"), "CUST_90123")
    assert missing == f"• {NO_FLAG} *Summit Learning Academy* (CUST_90123) · _no report this week_"


def test_a_subset_of_the_team(reported: ReportEngine) -> None:
    team = collect_rollup(reported.warehouse, WEEK, csm_ids={"CSM003"})
    assert [(c.csm_id, [r.customer_id for r in c.rows]) for c in team] == [
        ("CSM003", ["CUST_78901", "CUST_67890"])  # by customer name: Ironridge, Lumen
    ]


def headline(n: int) -> Headline:
    return Headline(
        revenue=1000.0 + n, revenue_wow=0.05, conversions=10 + n, conversions_wow=-0.02,
        click_through_rate=0.025, click_through_rate_wow=None, engagement_score=60.0, engagement_score_wow=0.0,
        sparkline="▁▂▃", health=["Healthy", "Watch", "At risk"][n % 3],
    )  # fmt: skip


def synthetic_team(csms: int, customers_each: int) -> list[CsmRollup]:
    return [
        CsmRollup(
            f"CSM{c:04d}", f"CSM number {c} <&>",
            tuple(
                RollupRow(f"CUST_{c:04d}{k:03d}", f"Customer {c}-{k} with a rather long trading name", "complete",
                          headline(k))
                for k in range(customers_each)
            ),
            Pause(f"CSM{c:04d}", None, dt.datetime(2026, 11, 1), None) if c % 10 == 0 else None,
        )
        for c in range(csms)
    ]  # fmt: skip


def all_text(messages: list[SlackMessage]) -> str:
    return "\n".join(b["text"]["text"] for m in messages for b in m.blocks[1:])


def test_a_large_team_is_split_into_several_messages() -> None:
    team = synthetic_team(130, 4)
    messages = rollup_messages(team, WEEK)
    within_limits(messages)
    assert len(messages) == 3  # 1 summary + 130 CSM blocks, 49 per message
    assert [m.blocks[0]["text"]["text"][-5:] for m in messages] == ["(1/3)", "(2/3)", "(3/3)"]
    text = all_text(messages)
    for csm in team:
        assert text.count(f"({csm.csm_id})") == 1
        assert all(text.count(f"({row.customer_id})") == 1 for row in csm.rows)
    assert "*520 customers*" in text and "13 CSMs paused" in text
    assert "CSM number 0 &lt;&amp;&gt;" in text and "<&>" not in text


def test_a_csm_with_many_customers_is_split_into_several_blocks() -> None:
    team = synthetic_team(3, 120)
    messages = rollup_messages(team, WEEK)
    within_limits(messages)
    blocks = [b["text"]["text"] for m in messages for b in m.blocks[1:]]
    assert len(blocks) > 1 + 3
    assert all(line.startswith(("•", "*", "_")) for block in blocks for line in block.splitlines())
    text = all_text(messages)
    assert all(text.count(f"({row.customer_id})") == 1 for csm in team for row in csm.rows)
    assert "1 CSM paused" in text
