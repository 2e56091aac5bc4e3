"""A section's Markdown table (channel effectiveness) goes to Slack as a `table` block."""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_sdk.models.blocks import Block, TableBlock

from bot.channels.slack_dm.render import slack_sections
from bot.mrkdwn import MAX_BLOCKS, TABLE_CELLS, TABLE_ROWS, Table, split_tables
from core.models import Report, SectionResult
from tests.email_fixtures import Demo
from tests.test_render import report_with


def tables_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "table"]


def cells(block: dict[str, Any]) -> list[list[str]]:
    return [[c["text"] for c in row] for row in block["rows"]]


def test_the_demo_reports_channel_effectiveness_is_a_table_block(email_demo: Demo) -> None:
    report = next(r for p in email_demo.parcels.values() for r in p.reports if r.customer_id == "CUST_34567")
    messages = slack_sections(report)
    with_table = [m for m in messages if tables_of(m.blocks)]
    assert len(with_table) == 1 and all(len(tables_of(m.blocks)) <= 1 for m in messages)
    message = with_table[0]
    (block,) = tables_of(message.blocks)
    assert cells(block) == [
        [
            "Channel",
            "Revenue",
            "Share of total",
            "WoW",
            "Conversions",
            "Sends",
            "Click-through",
            "Revenue per send",
        ],
        ["email", "$58,686", "62%", "▲ 2.7%", "94", "104,008", "2.63%", "$0.56"],
        ["push", "$13,691", "15%", "▼ 22.9%", "22", "38,874", "1.95%", "$0.35"],
        ["social", "$10,836", "12%", "▼ 3.2%", "17", "23,170", "3.17%", "$0.47"],
        ["sms", "$10,708", "11%", "▲ 31.8%", "15", "12,804", "2.86%", "$0.84"],
    ]
    assert all(c["type"] == "raw_text" for row in block["rows"] for c in row)
    assert [s["align"] for s in block["column_settings"]] == ["left"] + ["right"] * 7
    assert isinstance(Block.parse(block), TableBlock)  # slack_sdk's own model of it
    # The text around it stays text, in order; the fallback `text` carries the table too.
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert not any("|---" in t or "| email |" in t for t in texts)
    assert message.blocks.index(block) > 1 and "*Channel effectiveness* (this week)" in texts[0]
    assert "*Attribution insights*" in " ".join(texts)
    assert "email | $58,686 | 62% | ▲ 2.7%" in message.text


def table_md(rows: int, columns: int, label: str = "c") -> str:
    head = "| " + " | ".join(f"{label}{i}" for i in range(columns)) + " |"
    rule = "|" + "---|" * columns
    body = ["| " + " | ".join(f"{r}.{i}" for i in range(columns)) + " |" for r in range(rows)]
    return "\n".join([head, rule, *body])


def test_tables_beyond_slacks_limits_or_ragged_stay_text() -> None:
    assert isinstance(
        split_tables(table_md(TABLE_ROWS - 1, TABLE_CELLS))[0], Table
    )  # 100 rows with the header
    for md in (
        table_md(TABLE_ROWS, 3),  # 101 rows with the header
        table_md(2, TABLE_CELLS + 1),
        table_md(2, 3) + "\n| only | two |",
        "| a | b |\n| not a rule | x |\n| 1 | 2 |",
    ):
        parts = split_tables(md)
        assert not any(isinstance(p, Table) for p in parts), md[:40]


def test_cells_are_plain_text_and_escaped_pipes_stay_in_their_cell() -> None:
    (table,) = split_tables("| **Channel** | `x` |\n|:-:|--:|\n| a \\| b | <@U1> & co |")
    assert isinstance(table, Table)
    assert table.rows == (("Channel", "x"), ("a | b", "<@U1> & co"))
    assert table.align == ("center", "right")


def test_two_tables_in_one_section_go_in_two_messages_within_block_limits() -> None:
    content = "Intro\n\n" + table_md(3, 2, "a") + "\n\nBetween\n\n" + table_md(3, 2, "b") + "\n\nAfter"
    report: Report = report_with(content)
    report = dataclasses.replace(report, sections=report.sections[:1])
    messages = slack_sections(report)
    assert [len(tables_of(m.blocks)) for m in messages] == [1, 1]
    assert cells(tables_of(messages[1].blocks)[0])[0] == ["b0", "b1"]
    assert messages[1].blocks[0]["text"]["text"].endswith("(continued)")
    flat = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert flat == ["Intro", "Between", "After"]


def test_a_long_section_with_a_table_keeps_every_message_within_limits() -> None:
    text = "\n\n".join(f"paragraph {i} " + "word " * 500 for i in range(60))
    section = SectionResult(
        "business_value", "Business Value Analysis", 2, text + "\n\n" + table_md(5, 4), 1, "complete"
    )
    report = dataclasses.replace(report_with("x"), sections=[section])
    messages = slack_sections(report)
    assert sum(len(tables_of(m.blocks)) for m in messages) == 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS and len(m.text) < 4000 and len(tables_of(m.blocks)) <= 1
        assert all(len(b["text"]["text"]) <= 3000 for b in m.blocks if b["type"] == "section")
