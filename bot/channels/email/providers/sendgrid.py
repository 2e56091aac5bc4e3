"""SendGrid's v3 `mail/send` over its REST API, through requests (one session per run)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from bot.channels.email.providers.base import Provider, redact
from core.errors import EmailError

TIMEOUT = (10.0, 30.0)  # seconds to connect, and to wait for the answer


class SendGridProvider(Provider):
    name = "sendgrid"

    def __init__(self, api_key: str, base_url: str = "https://api.sendgrid.com") -> None:
        self._key = api_key
        self.url = base_url.rstrip("/") + "/v3/mail/send"
        self.session = requests.Session()

    def send(self, message: EmailMessage) -> str:
        try:
            response = self.session.post(
                self.url,
                json=payload(message),
                headers={"Authorization": f"Bearer {self._key}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            if _before_sending(exc):
                raise self._error(f"cannot connect ({type(exc).__name__})") from exc
            raise self._error(f"no answer ({type(exc).__name__})", uncertain=True) from exc
        status = response.status_code
        if status in (200, 202):
            return response.headers.get("X-Message-Id") or str(message["Message-ID"])
        why = f"HTTP {status}: {_errors(response)}"
        raise self._error(why, permanent=not (status == 429 or status >= 500))

    def close(self) -> None:
        self.session.close()

    def _error(self, text: str, *, uncertain: bool = False, permanent: bool = False) -> EmailError:
        return EmailError(redact(f"SendGrid: {text}", self._key), uncertain=uncertain, permanent=permanent)


def payload(message: EmailMessage) -> dict[str, Any]:
    """The v3 mail/send body of `message`: its addresses, subject, both parts and Message-ID."""
    sender = message["From"].addresses[0]
    to = [_person(a.addr_spec, a.display_name) for a in message["To"].addresses]
    parts = [
        {"type": f"text/{kind}", "value": part.get_content()}
        for kind in ("plain", "html")
        if (part := message.get_body((kind,))) is not None
    ]
    body = {
        "personalizations": [{"to": to}],
        "from": _person(sender.addr_spec, sender.display_name),
        "subject": str(message["Subject"]),
        "content": parts,
        "headers": {name: str(message[name]) for name in ("Message-ID", "Auto-Submitted") if message[name]},
    }
    inline = _inline_images(message)
    if inline:
        body["attachments"] = inline
    return body


def _inline_images(message: EmailMessage) -> list[dict[str, str]]:
    """The HTML's inline images (its multipart/related parts with a Content-ID) as SendGrid's
    inline attachments: SendGrid builds the MIME itself, and shows each where the HTML's
    `cid:` names its content_id."""
    found = []
    for part in message.walk():
        cid = part["Content-ID"]
        if part.get_content_maintype() != "image" or not cid:
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found.append(
            {
                "content": base64.b64encode(payload).decode("ascii"),
                "type": part.get_content_type(),
                "filename": part.get_filename() or "image",
                "disposition": "inline",
                "content_id": str(cid).strip().removeprefix("<").removesuffix(">"),
            }
        )
    return found


def _person(address: str, name: str) -> dict[str, str]:
    return {"email": address, "name": name} if name else {"email": address}


def _before_sending(exc: requests.RequestException) -> bool:
    """Whether the request failed before anything reached SendGrid (so it surely was not sent)."""
    # Connecting timed out, TLS failed (the certificate, the handshake) or the proxy refused:
    # the request never reached SendGrid.
    if isinstance(
        exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError
    ):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    # urllib3's NewConnectionError (refused, unreachable) is a ConnectTimeoutError too
    return isinstance(reason, ConnectTimeoutError)


def _errors(response: requests.Response) -> str:
    """SendGrid's error messages, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(body)[:200]
