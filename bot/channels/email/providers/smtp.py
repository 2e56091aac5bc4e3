"""SMTP through smtplib: a few connections per run, each reused email after email, reopened when dropped.

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
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

from bot.channels.email.providers.base import Provider, envelope, redact
from core.errors import EmailError

DEFAULT_TIMEOUT = 30.0  # seconds to connect, and for each reply
SERVICE_CLOSING = 421  # the server is closing the connection: reopen it
# Connections a run keeps open at most: enough to overlap rendering with sending, few
# enough for any relay's per-client limit.
MAX_CONNECTIONS = 4


class _Dropped(Exception):
    """The reused connection was gone before the email was handed over."""


class SmtpProvider(Provider):
    """Sends over up to `max_connections` connections, each reused for email after email.

    The weekly job delivers several recipients at once; each send takes an idle connection (or
    opens one, up to the limit), so one email is rendered while others are on the wire.
    """

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
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host, self.port = host, port or (587 if use_tls else 25)
        self.username, self._password, self.use_tls = username, password, use_tls
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._idle: list[smtplib.SMTP] = []  # open connections no email is using
        self._slots = threading.BoundedSemaphore(max(1, max_connections))  # one email per connection
        self._lock = threading.Lock()  # guards _idle and the counter
        self._held = threading.local()  # whether this thread holds a slot (`turn`)
        self.connections = 0  # connections opened so far (reuse shows in tests and the bench)

    def send(self, message: EmailMessage) -> str:
        sender, recipients = envelope(message)
        data = message.as_bytes(policy=policy.SMTP)
        with self.turn():
            conn = self._take()
            for fresh in (conn is None, True):
                conn = conn or self._open()
                try:
                    self._envelope(conn, sender, recipients)
                except _Dropped:
                    _close(conn)
                    conn = None
                    if fresh:
                        raise self._error("the server closed the connection before the email") from None
                    continue
                self._data(conn, data)  # on failure, the connection is reset or closed there
                self._give_back(conn)
                return str(message["Message-ID"])
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A connection slot for this thread: an email's attempt is counted, sent and recorded
        within it, so no email waits for a connection after its attempt was counted (a run
        stopped then would leave it "may or may not have been sent" though it never left)."""
        if getattr(self._held, "slot", False):
            yield
            return
        with self._slots:
            self._held.slot = True
            try:
                yield
            finally:
                self._held.slot = False

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.quit()
            _close(conn)

    # -- the connections ----------------------------------------------------------------------

    def _take(self) -> smtplib.SMTP | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(conn)

    def _open(self) -> smtplib.SMTP:
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
        with self._lock:
            self.connections += 1
        return conn

    # -- the phases ---------------------------------------------------------------------------

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
            _close(conn)
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
        """After a refusal the connection is fine: reset it and keep it for the next email."""
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            _close(conn)
        else:
            self._give_back(conn)


def _close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()
