"""The email of a parcel: HTML (autoescaped, styles inlined) with a text alternative."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from html import escape, unescape
from pathlib import Path

from bot.channels.base import Parcel
from bot.channels.email.render import markdown_html, message_id, render
from core.format import money
from core.models import SectionResult
from core.templating import environment as markdown_environment
from tests.email_fixtures import Demo

ROOT = Path(__file__).resolve().parents[1]

SENDER = "Weekly Report <reports@acme.test>"


def parts(parcel: Parcel) -> tuple[str, str, object]:
    message = render(parcel, SENDER)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content(), message


def test_one_email_holds_all_of_a_csms_reports_as_html_and_text(email_demo: Demo) -> None:
    parcel = email_demo.parcels["CSM001"]
    html, text, message = parts(parcel)
    assert message.get_content_type() == "multipart/alternative"  # type: ignore[attr-defined]
    assert message["Subject"] == "Your weekly executive reviews — week of 2026-11-09 (3 customers)"  # type: ignore[index]
    assert str(message["To"]) == "Sarah Johnson <sarah.johnson@example.com>"  # type: ignore[index]
    assert len(parcel.reports) == 3
    for report in parcel.reports:
        h = report.headline
        assert h is not None
        for body, shown in ((html, escape), (text, str)):
            assert shown(report.customer_name) in body and money(h.revenue) in body
            assert shown(h.health_line) in body
            assert all(shown(s.title) in body for s in report.sections)
        # what matters this week: the verdict and the talking points, as in the parent message
        assert h.talking_points
        for body in (unescape(html), text):
            assert "What matters this week" in body
            assert all(p in body for p in h.talking_points)
    # section Markdown is HTML in the HTML part and stays Markdown in the text part
    assert "<strong>Conversions</strong>" in html and "**Conversions**" in text
    assert "<li>" in html


def test_styles_are_inlined_and_no_style_block_is_left(email_demo: Demo) -> None:
    html, _, _ = parts(email_demo.parcels["CSM002"])
    assert "<style" not in html
    assert re.search(r'<body style="[^"]*font-family', html)
    assert re.search(r'class="health health-[a-z-]+" style="[^"]*color: #', html)


def test_the_message_id_is_stable_per_kind_week_and_csm_at_the_senders_domain(email_demo: Demo) -> None:
    a, b = email_demo.parcels["CSM001"], email_demo.parcels["CSM002"]
    first = render(a, SENDER)["Message-ID"]
    assert first == render(a, SENDER)["Message-ID"] == "<weekly-report.ebr.20261109.CSM001@acme.test>"
    assert message_id(b, SENDER) != first
    assert message_id(dataclasses.replace(a, week=a.week.previous), SENDER) != first
    assert message_id(a, "weird id <x@other.test>").endswith("@other.test>")


def test_customer_names_and_section_text_are_escaped_in_the_html(email_demo: Demo) -> None:
    parcel = email_demo.parcels["CSM002"]
    hostile = "<script>alert('x')</script> Fish & Chips"
    first = dataclasses.replace(parcel.reports[0], customer_name=hostile)
    first.sections = [
        SectionResult(
            "performance", "Performance <b>vs</b> Benchmarks", 1,
            "**Up** & away <img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))", 1, "complete",
        )
    ]  # fmt: skip
    html, text, _ = parts(dataclasses.replace(parcel, reports=(first, *parcel.reports[1:])))
    assert "<script>" not in html and "<img" not in html and 'href="javascript' not in html
    # (the inliner writes the HTML back out: quotes in text need no escaping there)
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Fish &amp; Chips" in html
    assert "<strong>Up</strong> &amp; away &lt;img src=x onerror=alert(1)&gt;" in html
    assert "Performance &lt;b&gt;vs&lt;/b&gt; Benchmarks" in html
    assert hostile in text  # the text part is shown as text: nothing to escape


def test_a_section_that_failed_says_so(email_demo: Demo) -> None:
    parcel = email_demo.parcels["CSM003"]
    report = dataclasses.replace(parcel.reports[0], status="partial")
    report.sections = [
        *parcel.reports[0].sections[:2],
        SectionResult(
            "recommendations", "Recommendations & Best Practices", 3, None, None, "failed", "HTTP 503"
        ),
    ]
    html, text, _ = parts(dataclasses.replace(parcel, reports=(report,)))
    assert "This section could not be generated: HTTP 503." in text
    assert "This section could not be generated: HTTP 503." in html
    assert "partial: Recommendations &amp; Best Practices could not be generated" in html
    assert "(1 customer)" in render(dataclasses.replace(parcel, reports=(report,)), SENDER)["Subject"]


def test_markdown_is_converted_with_raw_html_escaped_and_the_markdown_environment_is_untouched() -> None:
    assert str(markdown_html("a <b>b</b> **c**")) == "<p>a &lt;b&gt;b&lt;/b&gt; <strong>c</strong></p>\n"
    assert markdown_environment().autoescape is False


def test_a_week_without_data_and_a_partial_week_read_as_in_every_other_medium(email_demo: Demo) -> None:
    parcel = email_demo.parcels["CSM003"]
    complete = parcel.reports[0]
    assert complete.headline is not None
    no_data = dataclasses.replace(
        parcel.reports[1], status="no_data", sections=[], headline=None, agent_thread_id=None
    )
    note = "the week before has 2 of 7 days of data, so this week is not compared with it"
    partial = dataclasses.replace(
        complete, status="partial", headline=dataclasses.replace(complete.headline, partial_note=note)
    )
    html, text, _ = parts(dataclasses.replace(parcel, reports=(partial, no_data)))
    for body in (html, text):
        assert "No data this week" in body and "could not be generated" not in body
        assert note in body and "not compared" in body


def test_the_markdown_extensions_are_registered_when_the_renderer_is_imported() -> None:
    """cmark-gfm registers its GFM extensions on its first call, unguarded: two threads making
    their first call at once register them twice, and the second aborts the process (seen in a
    `make test` run: the coaching emails' four sender threads; 1 in 60 fresh processes of 32
    threads here). Registered at import (one thread), no first call is ever concurrent. Checked
    in a fresh interpreter, before any email is rendered."""
    probe = (
        "import bot.channels.email.render\n"
        "from cmarkgfm._cmark import ffi, lib\n"
        "print(lib.cmark_find_syntax_extension(b'table') != ffi.NULL)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
