"""The reports' charts inline in the HTML email (multipart/related, Content-ID, `cid:` images),
named in the text part, as received by a local SMTP server (aiosmtpd) and by the local
SendGrid and SES endpoints."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from html.parser import HTMLParser

from bot.channels.email import EmailChannel
from bot.channels.email.providers.sendgrid import SendGridProvider
from bot.channels.email.providers.ses import SesProvider
from bot.channels.email.providers.smtp import SmtpProvider
from bot.channels.email.render import MAX_IMAGE_WIDTH, render
from bot.charts.files import chart_filename
from core import DeliveryStore
from tests import test_email_http, test_slack_charts
from tests.chart_kind import ChartedReview
from tests.email_fixtures import Demo, never
from tests.email_servers import HttpApi, SmtpServer

SENDER = "Weekly Report <reports@acme.test>"


# The local SendGrid/SES HTTP server and the EBR with its charts, as those modules set them up.
api, charted = test_email_http.api, test_slack_charts.charted


class Images(HTMLParser):
    """The `<img>` tags of an HTML part, as attribute dicts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.found.append(dict(attrs))


def inline_parts(message: EmailMessage) -> dict[str, EmailMessage]:
    """Content-ID (without brackets) -> image part, of the message's multipart/related."""
    return {
        str(p["Content-ID"]).strip("<>"): p
        for p in message.walk()
        if p.get_content_maintype() == "image"  # type: ignore[misc]
    }


def assert_charts_inline(message: EmailMessage, demo: Demo, kind: ChartedReview) -> None:
    """Every chart of every report: an inline PNG the HTML shows by cid, with alt text and a
    width, and named with its alt text in the text part."""
    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related" and related.get_param("type") == "text/html"
    html_part = related.get_payload()[0]
    assert html_part.get_content_type() == "text/html"  # the root, first
    charts = [c for r in demo.parcels["CSM001"].reports for c in kind.charts(r)]
    files = [
        chart_filename(r.report_id, c.name) for r in demo.parcels["CSM001"].reports for c in kind.charts(r)
    ]
    images = inline_parts(message)
    assert len(images) == len(charts) == 6  # Sarah's three customers, two charts each
    for cid, part in images.items():
        assert part.get_content_type() == "image/png" and part.get_content_disposition() == "inline"
        assert part.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")  # type: ignore[union-attr]
        assert cid.endswith("@acme.test")
    assert [p.get_filename() for p in images.values()] == files
    tags = Images(html_part.get_content()).found
    assert [t["src"] for t in tags] == [f"cid:{cid}" for cid in images]
    assert [t["alt"] for t in tags] == [c.alt_text for c in charts]
    assert all(0 < int(t["width"] or 0) <= MAX_IMAGE_WIDTH for t in tags)
    text = text_part.get_content()
    assert all(f"- {c.title}: {c.alt_text}" in text for c in charts)


def test_smtp_delivers_the_charts_inline_as_cid_images(email_demo: Demo, charted: ChartedReview) -> None:
    message = render(email_demo.parcels["CSM001"], SENDER, charts=True)
    with SmtpServer() as server:
        provider = SmtpProvider("127.0.0.1", server.port)
        provider.send(message)
        provider.close()
    [got] = server.received
    assert_charts_inline(got.message, email_demo, charted)
    sent = {cid: p.get_payload(decode=True) for cid, p in inline_parts(message).items()}
    assert {cid: p.get_payload(decode=True) for cid, p in inline_parts(got.message).items()} == sent


def test_with_charts_off_the_email_is_as_before(email_demo: Demo, charted: ChartedReview) -> None:
    parcel = email_demo.parcels["CSM001"]
    off = render(parcel, SENDER, charts=False)
    assert [p.get_content_type() for p in off.get_payload()] == ["text/plain", "text/html"]  # type: ignore[union-attr]
    assert "cid:" not in off.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Charts" not in off.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_sendgrid_gets_the_charts_as_inline_attachments(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi, charted: ChartedReview
) -> None:
    parcel = email_demo.parcels["CSM001"]
    channel = EmailChannel(email_ledger, SendGridProvider("SG.test-key", api.url), SENDER, charts=True)
    assert channel.deliver(parcel, never).delivered == 1
    channel.close()
    body = api.requests[0].json()
    html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
    cids = [str(t["src"]).removeprefix("cid:") for t in Images(html).found]
    attachments = body["attachments"]
    assert [a["content_id"] for a in attachments] == cids and len(cids) == 6
    assert all(a["disposition"] == "inline" and a["type"] == "image/png" for a in attachments)
    assert all(base64.b64decode(a["content"]).startswith(b"\x89PNG") for a in attachments)


def test_ses_sends_the_same_mime_with_its_inline_images(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi, charted: ChartedReview
) -> None:
    channel = EmailChannel(
        email_ledger, SesProvider("eu-west-1", "AKIDLOCAL", "secret", api.url), SENDER, charts=True
    )
    assert channel.deliver(email_demo.parcels["CSM001"], never).delivered == 1
    channel.close()
    [raw] = api.sent_raw()
    assert_charts_inline(raw, email_demo, charted)
