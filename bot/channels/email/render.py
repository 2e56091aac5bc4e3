"""A parcel as one email: HTML with a plain-text alternative, from `templates/<kind>/email/`.

The HTML is rendered by an environment of its own with autoescaping on (core.templating's
renders Markdown and prompts, unescaped). Section content is Markdown written from data an
agent saw: every `<` that could open a tag is escaped first, so any `<tag>` in it reaches
the email as text, then cmark-gfm converts it (its safe mode, the default, would drop raw
HTML and blanks javascript: links anyway). cmark-gfm is C: some 20 times faster than the
pure-Python parsers, which took most of an email's rendering time. The stylesheet `digest.css` is inlined into `style` attributes
(css-inline), since many clients drop `<style>` blocks.

Each report's charts (bot.charts.files, the images its Slack thread gets) travel inside the
email as inline images: multipart/alternative [text, multipart/related [HTML, PNG, ...]],
each PNG with a Content-ID the HTML shows as `<img src="cid:...">` with its alt text and a
width. The text part names them by title and alt text (the numbers they show).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from typing import Any

import cmarkgfm
import css_inline
import jinja2
from markupsafe import Markup

from bot.channels.base import Parcel
from bot.charts import SCALE
from bot.charts.files import ChartFile, chart_files, rendered
from core.templating import TEMPLATES_DIR, new_environment

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
# What can open raw HTML (or an autolink) in CommonMark: `<` then a letter, `/`, `!` or `?`.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
MAX_IMAGE_WIDTH = 600  # px: an email's usual body width; wider charts are shown scaled down


@dataclass(frozen=True)
class InlineImage:
    """A chart as the email shows it: the template reads `cid`, `title`, `alt_text`, `width`."""

    file: ChartFile
    png: bytes = field(repr=False)
    cid: str  # without the angle brackets of the Content-ID header

    @property
    def title(self) -> str:
        return self.file.title

    @property
    def alt_text(self) -> str:
        return self.file.alt_text

    @property
    def width(self) -> int:
        """CSS pixels: the PNG's width (IHDR) at the scale it was rendered, at most MAX_IMAGE_WIDTH."""
        pixels = int.from_bytes(self.png[16:20], "big") if self.png[12:16] == b"IHDR" else 0
        return min(round(pixels / SCALE), MAX_IMAGE_WIDTH) if pixels else MAX_IMAGE_WIDTH


@cache
def environment() -> jinja2.Environment:
    """Templates of the email: `.html.j2` autoescaped, `.txt.j2` not."""
    env = new_environment(jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default=False))
    env.filters["markdown_html"] = markdown_html
    return env


# cmark-gfm registers its GFM extensions on its first call, unguarded: two threads making their
# first call at once register them twice and the second aborts the process (SIGABRT; the email
# channels render from several threads). Made here, while this module is imported (one thread).
cmarkgfm.github_flavored_markdown_to_html("")


def markdown_html(text: str | None) -> Markup:
    """Markdown (GitHub's flavour) as safe HTML: raw HTML in it is shown as text.

    (Inside a code span an escaped `<` shows as `&lt;`: the price of escaping first.)
    """
    return Markup(cmarkgfm.github_flavored_markdown_to_html(_TAG_OPEN.sub("&lt;", text or "")))


@cache
def _inliner(kind: str) -> css_inline.CSSInliner:
    css = (TEMPLATES_DIR / kind / "email" / "digest.css").read_text()
    return css_inline.CSSInliner(extra_css=css, load_remote_stylesheets=False, keep_style_tags=False)


def render(
    parcel: Parcel, sender: str, now: dt.datetime | None = None, *, charts: bool = False
) -> EmailMessage:
    """The email of `parcel`, from `sender` ("address" or "Name <address>") to its recipient,
    with its reports' charts inline when `charts` (settings.charts: the channel passes it).

    Raises ValueError when the recipient's address cannot be written in a header.
    """
    problem = address_problem(parcel.recipient.email)
    if problem:
        raise ValueError(problem)
    images = inline_images(parcel, sender, charts)
    context = _context(parcel) | {"charts": images}
    env = environment()
    folder = f"{parcel.kind}/email"
    subject = " ".join(env.get_template(f"{folder}/subject.txt.j2").render(**context).split())
    text = env.get_template(f"{folder}/digest.txt.j2").render(**context).strip() + "\n"
    html = _inliner(parcel.kind).inline(env.get_template(f"{folder}/digest.html.j2").render(**context))

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=parcel.recipient.name, addr_spec=parcel.recipient.email)
    # Short ASCII headers of our own making that nothing reads back are stored as written
    # (set_raw): they skip the header parser on the way in and out. Content-Type is parsed
    # once, as the generator reads it several times.
    message.set_raw("Date", format_datetime(now or dt.datetime.now(dt.UTC)))
    message.set_raw("Message-ID", message_id(parcel, sender))
    message.set_raw("Auto-Submitted", "auto-generated")  # RFC 3834: no vacation replies to a robot
    message.set_raw("MIME-Version", "1.0")
    # A boundary of our own: the generator would otherwise scan the whole text for a
    # collision (a tenth of an email's rendering time). Both parts are quoted-printable,
    # where "=" is always written "=3D", so no line of theirs can start with "--==".
    message["Content-Type"] = f'multipart/alternative; boundary="==weekly-report-{uuid.uuid4().hex}=="'
    html_part = _text_part(html, "html")
    shown = [image for report_images in images.values() for image in report_images]
    if shown:
        html_part = _related(html_part, shown)
    message.set_payload([_text_part(text, "plain"), html_part])
    return message


def inline_images(parcel: Parcel, sender: str, charts: bool) -> dict[str, list[InlineImage]]:
    """Report id -> its charts, rendered, each with a Content-ID unique to this email."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    found: dict[str, list[InlineImage]] = {}
    for report in parcel.reports:
        images = rendered(chart_files(report, charts))
        if images:
            # The file name names the report and chart: unique within the email, and readable
            # in a client that lists the images.
            found[report.report_id] = [InlineImage(f, png, f"{f.filename}@{domain}") for f, png in images]
    return found


def _related(html: EmailMessage, images: list[InlineImage]) -> EmailMessage:
    """multipart/related: the HTML first (its root), then each image it shows by cid."""
    related = EmailMessage()
    # Our own boundary, as for the alternative: base64 and quoted-printable lines never start "--==".
    related["Content-Type"] = (
        f'multipart/related; type="text/html"; boundary="==weekly-report-{uuid.uuid4().hex}=="'
    )
    related.set_payload([html, *(_image_part(i) for i in images)])
    return related


def _image_part(image: InlineImage) -> EmailMessage:
    part = EmailMessage()
    name = image.file.filename
    part["Content-Type"] = f'image/png; name="{name}"'
    part.set_raw("Content-Transfer-Encoding", "base64")
    part.set_raw("Content-ID", f"<{image.cid}>")
    part["Content-Disposition"] = f'inline; filename="{name}"'
    part.set_payload(base64.encodebytes(image.png).decode("ascii"))
    return part


def _text_part(body: str, subtype: str) -> EmailMessage:
    """A UTF-8 text part, quoted-printable: 7-bit, so any SMTP server or API takes it as it is.

    Encoded by binascii (C) rather than set_content's pure-Python encoder, which took a
    third of an email's rendering time; get_content() reads it back as usual.
    """
    part = EmailMessage()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part.set_raw("Content-Transfer-Encoding", "quoted-printable")
    part.set_payload(binascii.b2a_qp(body.encode(), istext=True).decode("ascii"))
    return part


def address_problem(address: str) -> str | None:
    """Why `address` cannot be a recipient (one line), or None."""
    if not address.isascii():  # SMTP commands are ASCII (no SMTPUTF8 here): say so before anything is sent
        return f"'{' '.join(address.split())[:80]}' has non-ASCII characters, which email here cannot address"
    if "@" in address.strip("@") and address == "".join(address.split()):
        return None
    return f"'{' '.join(address.split())[:80]}' is not an email address"


def message_id(parcel: Parcel, sender: str) -> str:
    """The same Message-ID for every attempt at one (kind, period, recipient), at the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    person = parcel.recipient.person_id
    if _UNSAFE_ID.search(person) or not person:
        person = hashlib.sha256(person.encode()).hexdigest()[:16]
    return f"<weekly-report.{parcel.kind}.{parcel.week.period_id}.{person}@{domain}>"


def _context(parcel: Parcel) -> dict[str, Any]:
    return {
        "kind": parcel.kind,
        "week": parcel.week,
        "recipient": parcel.recipient,
        "reports": parcel.reports,
        "count": len(parcel.reports),
    }
