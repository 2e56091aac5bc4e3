"""Slack rendering stays within Slack's limits; mrkdwn is escaped, not Markdown."""

from __future__ import annotations

import datetime as dt

from bot.channels.slack_dm.render import slack_parent, slack_sections
from bot.mrkdwn import MAX_BLOCKS, mrkdwn, split_text
from core.models import Headline, Report, SectionResult
from core.weeks import Week


def report_with(content: str) -> Report:
    headline = Headline(1234.5, 0.1, 10, -0.05, 0.021, None, 55.0, 0.0, "▁▂▃▄▅▆▇█", "Healthy")
    section = SectionResult("performance", "Performance vs Benchmarks", 1, content, 7, "complete")
    failed = SectionResult("business_value", "Business Value Analysis", 2, None, None, "failed", "HTTP 503")
    return Report(
        "CUST_1-20261109", "CSM001", "CUST_1", "A & B <Co>", "Retail", Week(dt.date(2026, 11, 9)), "partial",
        [section, failed], headline, "1", 7, dt.datetime(2026, 11, 16),
    )  # fmt: skip


def test_mrkdwn_escapes_and_converts() -> None:
    assert (
        mrkdwn("**Revenue** & <b> > 3\n- item\n## Head") == "*Revenue* &amp; &lt;b&gt; &gt; 3\n• item\n*Head*"
    )


def test_split_text_respects_the_limit_and_loses_nothing() -> None:
    text = "\n\n".join(f"paragraph {i} " + "word " * 150 for i in range(40))
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_a_huge_section_is_split_across_messages_within_limits() -> None:
    content = "\n".join(f"- line {i} " + "x" * 120 for i in range(2000))  # ~250 kB
    messages = slack_sections(report_with(content))
    assert len(messages) > 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert len(m.text) < 4000
        assert all(len(b["text"]["text"]) <= 3000 for b in m.blocks if b["type"] == "section")
    assert messages[-1].blocks[0]["text"]["text"] == "2. Business Value Analysis"
    assert "could not be generated: HTTP 503" in messages[-1].blocks[1]["text"]["text"]


def test_parent_message_has_headline_and_follow_up_hint() -> None:
    parent = slack_parent(report_with("text"))
    body = " ".join(b["text"]["text"] for b in parent.blocks if b["type"] == "section")
    assert "$1,234 ▲ 10.0%" in body and "▼ 5.0%" in body and "▁▂▃▄▅▆▇█" in body
    assert "partial" in body and "Business Value Analysis could not be generated" in body
    assert parent.blocks[0]["text"]["text"] == "Weekly report: A & B <Co> (CUST_1)"
    assert parent.blocks[-1]["elements"][0]["text"] == "Reply in this thread to ask a follow-up."


def test_the_parent_messages_fallback_text_is_escaped_like_its_blocks() -> None:
    """`text` is what notifications show: a customer name must not mention the channel there."""
    report = report_with("text")
    report.customer_name = "<!channel> Acme & <@U123>"
    parent = slack_parent(report)
    assert parent.text.startswith("Weekly report: &lt;!channel&gt; Acme &amp; &lt;@U123&gt; (CUST_1)\n")
    assert "<!channel>" not in parent.text and "<@U123>" not in parent.text
    for message in slack_sections(report):
        assert "<" not in message.text.replace("&lt;", "")
