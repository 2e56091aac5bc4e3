"""The SMTP provider against aiosmtpd: plain, STARTTLS with a self-signed certificate, AUTH."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.channels.email.providers.smtp import SmtpProvider
from bot.channels.email.render import render
from core.errors import EmailError
from tests.email_fixtures import Demo
from tests.email_servers import DROP, PASSWORD, USER, SmtpServer

SENDER = "Weekly Report <reports@acme.test>"


def test_an_email_arrives_whole_over_plain_smtp(email_demo: Demo) -> None:
    message = render(email_demo.parcels["CSM001"], SENDER)
    with SmtpServer() as server:
        provider = SmtpProvider("127.0.0.1", server.port)
        assert provider.send(message) == message["Message-ID"]
        provider.close()
    [got] = server.received
    assert (got.sender, got.recipients) == ("reports@acme.test", ["sarah.johnson@example.com"])
    assert got.message["Message-ID"] == message["Message-ID"]
    assert got.message["Subject"] == message["Subject"]
    assert got.message.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        sent = message.get_body((kind,)).get_content()  # type: ignore[union-attr]
        arrived = got.message.get_body((kind,)).get_content()  # type: ignore[union-attr]
        assert arrived.replace("\r\n", "\n") == sent


def test_one_connection_carries_every_email_and_a_dropped_one_is_reopened(email_demo: Demo) -> None:
    messages = [render(p, SENDER) for p in email_demo.parcels.values()]
    with SmtpServer(idle_timeout=0.3) as server:
        provider = SmtpProvider("127.0.0.1", server.port)
        for m in messages:
            provider.send(m)
        assert provider.connections == 1
        time.sleep(0.6)  # the server closes the idle connection
        provider.send(messages[0])
        provider.close()
    assert provider.connections == 2
    assert len(server.received) == len(messages) + 1


def test_emails_sent_at_once_share_a_few_reused_connections(email_demo: Demo) -> None:
    """The weekly job delivers several CSMs at once: sends overlap on up to MAX_CONNECTIONS
    connections, each reused, and every email arrives once."""
    messages = [render(p, SENDER) for p in email_demo.parcels.values()] * 8
    with SmtpServer() as server:
        provider = SmtpProvider("127.0.0.1", server.port, max_connections=3)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(provider.send, messages))
        provider.close()
    assert 1 <= provider.connections <= 3
    assert len(server.received) == len(messages)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize(
    ("tls", "mechanism"),
    [(False, "PLAIN"), (True, "PLAIN"), (True, "LOGIN")],
    ids=["plain", "tls", "tls-login"],
)
def test_starttls_and_auth_with_the_right_credentials(
    email_demo: Demo, tmp_path: Path, tls: bool, mechanism: str
) -> None:
    with SmtpServer(tls_folder=tmp_path if tls else None, auth=True, mechanisms=(mechanism,)) as server:
        context = server.client_context() if tls else None
        provider = SmtpProvider("127.0.0.1", server.port, USER, PASSWORD, use_tls=tls, ssl_context=context)
        provider.send(render(email_demo.parcels["CSM002"], SENDER))
        provider.close()
    assert server.handler.logins == [(mechanism, USER)]
    assert [r.recipients for r in server.received] == [["michael.chen@example.com"]]


def test_wrong_credentials_are_a_permanent_error_that_never_shows_the_password(
    email_demo: Demo, tmp_path: Path
) -> None:
    with SmtpServer(tls_folder=tmp_path, auth=True) as server:
        provider = SmtpProvider(
            "127.0.0.1",
            server.port,
            USER,
            "wrong-" + PASSWORD,
            use_tls=True,
            ssl_context=server.client_context(),
        )
        with pytest.raises(EmailError) as caught:
            provider.send(render(email_demo.parcels["CSM002"], SENDER))
    assert caught.value.permanent and not caught.value.uncertain
    assert "SMTP_USERNAME/SMTP_PASSWORD" in str(caught.value) and PASSWORD not in str(caught.value)
    assert server.received == []


def test_a_certificate_nobody_trusts_is_refused(email_demo: Demo, tmp_path: Path) -> None:
    with SmtpServer(tls_folder=tmp_path) as server:
        provider = SmtpProvider("127.0.0.1", server.port, use_tls=True)  # the system's trust store
        with pytest.raises(EmailError, match="certificate failed verification") as caught:
            provider.send(render(email_demo.parcels["CSM002"], SENDER))
    assert caught.value.permanent
    assert server.received == []


def test_a_server_that_requires_starttls_refuses_a_plain_sender(email_demo: Demo, tmp_path: Path) -> None:
    with SmtpServer(tls_folder=tmp_path) as server:
        provider = SmtpProvider("127.0.0.1", server.port)
        with pytest.raises(EmailError) as caught:
            provider.send(render(email_demo.parcels["CSM002"], SENDER))
    assert caught.value.permanent and "530" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "retryable", "uncertain"),
    [("451 4.3.0 try again later", True, False), ("554 5.7.1 rejected", False, False), (DROP, False, True)],
    ids=["4xx", "5xx", "dropped"],
)
def test_data_replies_say_whether_to_retry(
    email_demo: Demo, reply: str, retryable: bool, uncertain: bool
) -> None:
    message = render(email_demo.parcels["CSM003"], SENDER)
    with SmtpServer() as server:
        server.handler.replies.append(reply)
        provider = SmtpProvider("127.0.0.1", server.port)
        with pytest.raises(EmailError) as caught:
            provider.send(message)
        assert (caught.value.retryable, caught.value.uncertain) == (retryable, uncertain)
        provider.send(message)  # the connection (reopened if it was dropped) takes the next one
        provider.close()
    assert len(server.received) == (2 if reply == DROP else 1)


def test_nobody_listening_is_a_definite_retryable_failure(email_demo: Demo) -> None:
    with SmtpServer() as server:
        port = server.port
    with pytest.raises(EmailError, match="connecting") as caught:
        SmtpProvider("127.0.0.1", port, timeout=2).send(render(email_demo.parcels["CSM003"], SENDER))
    assert caught.value.retryable
