"""SendGrid (v3 mail/send through requests) and SES (boto3's sesv2) against a local HTTP server."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from bot.channels.email import EmailChannel, ledger_key
from bot.channels.email.providers import make_provider
from bot.channels.email.providers.base import redact
from bot.channels.email.providers.sendgrid import SendGridProvider
from bot.channels.email.providers.ses import SesProvider
from bot.channels.email.render import render
from core import DeliveryStore, Settings
from core.deliveries import DELIVERED
from core.errors import EmailError
from tests.email_fixtures import Demo, never
from tests.email_servers import HttpApi, free_port

SENDER = "Weekly Report <reports@acme.test>"
API_KEY = "SG.test-key-0123456789"
KEY_ID, SECRET = "AKIDLOCALTEST", "local/secret+key"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpApi]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with HttpApi() as server:
        yield server


def ses(api: HttpApi) -> SesProvider:
    return SesProvider("eu-west-1", KEY_ID, SECRET, api.url)


# -- SendGrid -----------------------------------------------------------------------------------


def test_sendgrid_gets_the_v3_body_with_the_key_as_a_bearer_token(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi
) -> None:
    parcel = email_demo.parcels["CSM001"]
    message = render(parcel, SENDER)
    channel = EmailChannel(email_ledger, SendGridProvider(API_KEY, api.url), SENDER)
    outcome = channel.deliver(parcel, never)
    channel.close()
    assert (outcome.delivered, outcome.messages) == (1, 1)
    [request] = api.requests
    assert request.path == "/v3/mail/send"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json()
    assert body["personalizations"] == [
        {"to": [{"email": "sarah.johnson@example.com", "name": "Sarah Johnson"}]}
    ]
    assert body["from"] == {"email": "reports@acme.test", "name": "Weekly Report"}
    assert body["subject"] == message["Subject"]
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["content"][1]["value"] == message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert body["headers"]["Message-ID"] == "<weekly-report.ebr.20261109.CSM001@acme.test>"
    record = email_ledger.get(*ledger_key(parcel))
    assert record is not None and (record.status, record.channel, record.message_ts) == (
        DELIVERED, "sendgrid", "sg-1"
    )  # fmt: skip


def test_sendgrid_5xx_is_retried_once_and_4xx_not_at_all(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi
) -> None:
    sleeps: list[float] = []
    channel = EmailChannel(email_ledger, SendGridProvider(API_KEY, api.url), SENDER, sleep=sleeps.append)
    api.statuses += [503]
    retried = channel.deliver(email_demo.parcels["CSM001"], never)
    api.statuses += [401]
    refused = channel.deliver(email_demo.parcels["CSM002"], never)
    assert (retried.delivered, retried.messages, len(sleeps)) == (1, 1, 1)
    assert (refused.failed, len(sleeps), len(api.requests)) == (1, 1, 3)
    [(line, alert)] = refused.problems
    assert "SendGrid: HTTP 401: busy" in line and alert is not None and API_KEY not in alert


def test_sendgrid_unreachable_is_definite_and_retryable(email_demo: Demo) -> None:
    provider = SendGridProvider(API_KEY, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(EmailError, match="cannot connect") as caught:
        provider.send(render(email_demo.parcels["CSM003"], SENDER))
    assert caught.value.retryable and API_KEY not in str(caught.value)


def test_a_tls_failure_is_definite_never_may_have_been_sent(email_demo: Demo, api: HttpApi) -> None:
    """https to a server that speaks plain HTTP: the handshake fails before any request."""
    tls_url = api.url.replace("http://", "https://")
    for provider in (SendGridProvider(API_KEY, tls_url), SesProvider("eu-west-1", KEY_ID, SECRET, tls_url)):
        with pytest.raises(EmailError) as caught:
            provider.send(render(email_demo.parcels["CSM003"], SENDER))
        assert not caught.value.uncertain, str(caught.value)
        assert API_KEY not in str(caught.value) and SECRET not in str(caught.value)
    assert api.requests == []


def test_secrets_are_redacted_before_the_message_is_cut() -> None:
    text = "x" * 290 + API_KEY + " tail"
    assert API_KEY[:5] not in redact(text, API_KEY) and len(redact(text, API_KEY)) <= 300


# -- SES ----------------------------------------------------------------------------------------


def test_ses_gets_the_raw_mime_message_signed_with_the_configured_keys(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi
) -> None:
    parcel = email_demo.parcels["CSM002"]
    message = render(parcel, SENDER)
    channel = EmailChannel(email_ledger, ses(api), SENDER)
    outcome = channel.deliver(parcel, never)
    channel.close()
    assert (outcome.delivered, outcome.messages) == (1, 1)
    [request] = api.requests
    assert request.path == "/v2/email/outbound-emails"
    assert (
        request.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
        and "/eu-west-1/ses/aws4_request" in request.headers["authorization"]
    )
    body = request.json()
    assert body["FromEmailAddress"] == "reports@acme.test"
    assert body["Destination"] == {"ToAddresses": ["michael.chen@example.com"]}
    [raw] = api.sent_raw()
    assert raw["Message-ID"] == "<weekly-report.ebr.20261109.CSM002@acme.test>"
    assert raw["Subject"] == message["Subject"] and raw.get_content_type() == "multipart/alternative"
    assert b"\r\n" in base64.b64decode(body["Content"]["Raw"]["Data"])  # CRLF, as the wire wants
    record = email_ledger.get(*ledger_key(parcel))
    assert record is not None and (record.channel, record.message_ts) == ("ses", "ses-1")


def test_ses_5xx_is_retried_once_botocore_adding_no_retries_of_its_own(
    email_demo: Demo, email_ledger: DeliveryStore, api: HttpApi
) -> None:
    sleeps: list[float] = []
    channel = EmailChannel(email_ledger, ses(api), SENDER, sleep=sleeps.append)
    api.statuses += [500]
    outcome = channel.deliver(email_demo.parcels["CSM003"], never)
    assert (outcome.delivered, len(sleeps), len(api.requests)) == (1, 1, 2)
    assert len(list(api.sent_raw())) == 2  # the first was answered 500: not sent


def test_ses_rejection_is_permanent_and_names_the_code_without_the_secret(
    email_demo: Demo, api: HttpApi
) -> None:
    api.statuses += [400]
    with pytest.raises(EmailError, match="MessageRejected") as caught:
        ses(api).send(render(email_demo.parcels["CSM003"], SENDER))
    assert caught.value.permanent and SECRET not in str(caught.value)


def test_settings_choose_ses_with_its_endpoint(email_demo: Demo, api: HttpApi) -> None:
    settings = Settings(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, aws_endpoint_url=api.url, smtp_host="unused"
    )
    provider = make_provider(settings, out=None)  # type: ignore[arg-type]
    assert provider.name == "ses"
    provider.send(render(email_demo.parcels["CSM004"], SENDER))
    assert len(api.requests) == 1
