"""Local servers the email tests send to, over the real protocols.

- `SmtpServer`: aiosmtpd, optionally with STARTTLS (a self-signed certificate made here by
  `cryptography`) and AUTH LOGIN/PLAIN checked against one user; scripted replies to DATA.
- `HttpApi`: an http.server answering SendGrid's v3 `/v3/mail/send` and SES v2's
  `/v2/email/outbound-emails` with scripted statuses, recording every request.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "mailer", "s3cret-pa55"
DROP = "drop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    # Scripted replies to DATA, then "250 OK". DROP takes the email, then closes the connection
    # without answering: the sender cannot know it went through.
    replies: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    # Called with the number of emails taken so far, after each is taken and before the answer.
    on_taken: Callable[[int], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply == DROP or reply.startswith("250"):
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            if self.on_taken is not None:
                self.on_taken(len(self.received))
        if reply == DROP:
            server.transport.close()
        return reply

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((mechanism, data.login.decode()))
            ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """aiosmtpd on 127.0.0.1: plain, or with STARTTLS (`tls_folder`), or AUTH required (`auth`)."""

    def __init__(
        self,
        tls_folder: Path | None = None,
        auth: bool = False,
        idle_timeout: float = 300,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    ) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.cert: Path | None = None
        kwargs: dict[str, Any] = {"timeout": idle_timeout}
        if tls_folder is not None:
            self.cert, key = self_signed(tls_folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            kwargs |= {"tls_context": context, "require_starttls": True}
        if auth:
            kwargs |= {
                "authenticator": self.handler.authenticate,
                "auth_required": True,
                "auth_require_tls": tls_folder is not None,
                "auth_exclude_mechanism": [m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            }
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        assert self.cert is not None
        return ssl.create_default_context(cafile=str(self.cert))

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpApi:
    """SendGrid's and SES v2's send endpoints on 127.0.0.1; `statuses` scripts the next answers."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.statuses: list[int] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = api.statuses.pop(0) if api.statuses else None
                if self.path == "/v3/mail/send":
                    self._answer(
                        status or 202, b"" if (status or 202) < 300 else b'{"errors":[{"message":"busy"}]}'
                    )
                elif self.path == "/v2/email/outbound-emails":
                    ok = (status or 200) < 300
                    payload = {"MessageId": f"ses-{len(api.requests)}"} if ok else {"message": "Service busy"}
                    kind = {400: "MessageRejected", 429: "TooManyRequestsException"}.get(status or 200)
                    headers = {} if ok else {"x-amzn-ErrorType": kind or "InternalFailure"}
                    self._answer(status or 200, json.dumps(payload).encode(), headers)
                else:
                    self._answer(404, b"{}")

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 202:
                    self.send_header("X-Message-Id", f"sg-{len(api.requests)}")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll (the default is 0.5 s): shutdown, at the end of every test, waits for it.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def sent_raw(self) -> Iterator[EmailMessage]:
        """The raw MIME messages SES received."""
        for r in self.requests:
            if r.path == "/v2/email/outbound-emails":
                data = base64.b64decode(r.json()["Content"]["Raw"]["Data"])
                yield message_from_bytes(data, policy=policy.default)  # type: ignore[misc]

    def __enter__(self) -> HttpApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
