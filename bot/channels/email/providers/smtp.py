"""SMTP through smtplib: one connection per run, reused for every email, reopened when dropped.

The phases are driven one by one (MAIL, RCPT, DATA) so a failure says whether the email may
have gone out: a connection lost before DATA is a definite failure (the stale connection is
reopened and the email sent on it at once), one lost during DATA is uncertain, and a reply
code says itself whether to retry (4xx) or not (5xx).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from email import policy
from email.message import EmailMessage

from bot.channels.email.providers.base import Provider, envelope, redact
from core.errors import EmailError

DEFAULT_TIMEOUT = 30.0  # seconds to connect, and for each reply
SERVICE_CLOSING = 421  # the server is closing the connection: reopen it


class _Dropped(Exception):
    """The reused connection was gone before the email was handed over."""


class SmtpProvider(Provider):
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port or (587 if use_tls else 25)
        self.username, self._password, self.use_tls = username, password, use_tls
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.RLock()  # one connection: one email on it at a time (see `turn`)
        self.connections = 0  # connections opened so far (reuse shows in tests and the bench)

    def send(self, message: EmailMessage) -> str:
        sender, recipients = envelope(message)
        data = message.as_bytes(policy=policy.SMTP)
        with self._lock:
            for fresh in (False, True):
                conn = self._connection()
                try:
                    self._envelope(conn, sender, recipients)
                except _Dropped:
                    self._drop()
                    if fresh:
                        raise self._error("the server closed the connection before the email") from None
                    continue
                self._data(conn, data)
                return str(message["Message-ID"])
        raise AssertionError("unreachable")

    def turn(self) -> threading.RLock:
        """The connection's lock: sends take turns on it."""
        return self._lock

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._conn.quit()
                self._drop()

    # -- the phases ---------------------------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        try:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)  # starttls checks this host
        except (smtplib.SMTPException, OSError) as exc:
            raise self._failure(exc, "connecting") from exc
        try:
            conn.ehlo()
            if self.use_tls:
                conn.starttls(context=self.ssl_context or ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password or "")
        except (smtplib.SMTPException, OSError) as exc:
            conn.close()
            raise self._failure(exc, "connecting") from exc
        self._conn = conn
        self.connections += 1
        return conn

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
        try:
            code, reply = conn.mail(sender)
            if code == SERVICE_CLOSING:
                raise _Dropped
            if code != 250:
                self._reset(conn)
                raise self._refused(code, reply, "the sender")
            for rcpt in recipients:
                code, reply = conn.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset(conn)
                    raise self._refused(code, reply, "the recipient")
        except (smtplib.SMTPServerDisconnected, OSError):
            raise _Dropped from None

    def _data(self, conn: smtplib.SMTP, data: bytes) -> None:
        try:
            code, reply = conn.data(data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was handed over
            self._reset(conn)
            raise self._refused(exc.smtp_code, exc.smtp_error, "DATA") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise self._error(
                f"the connection failed while the email was handed over ({type(exc).__name__})",
                uncertain=True,
            ) from exc
        if code != 250:
            self._reset(conn)
            raise self._refused(code, reply, "the email")

    # -- errors -------------------------------------------------------------------------------

    def _failure(self, exc: BaseException, doing: str) -> EmailError:
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return self._error(f"{doing}: the server refused SMTP_USERNAME/SMTP_PASSWORD", permanent=True)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return self._error(f"{doing}: {exc}", permanent=True)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return self._error(f"{doing}: the server's certificate failed verification", permanent=True)
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._refused(exc.smtp_code, exc.smtp_error, doing)
        return self._error(f"{doing}: {type(exc).__name__}: {exc}")

    def _refused(self, code: int, reply: bytes | str, what: str) -> EmailError:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return self._error(f"{what} refused: {code} {text}", permanent=not 400 <= code < 500)

    def _error(self, text: str, *, uncertain: bool = False, permanent: bool = False) -> EmailError:
        message = redact(f"SMTP {self.host}:{self.port}: {text}", self._password)
        return EmailError(message, uncertain=uncertain, permanent=permanent)

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
