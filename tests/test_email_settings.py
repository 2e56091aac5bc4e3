"""Email settings: which provider is chosen, what is refused, what never shows."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import load_settings

SG = {"SENDGRID_API_KEY": "SG.key"}
AWS = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "aws-secret"}
SMTP = {"SMTP_HOST": "mail.example.com", "SMTP_PASSWORD": "smtp-secret"}


@pytest.mark.parametrize(
    ("environ", "chosen"),
    [
        ({}, "console"),
        (SMTP, "smtp"),
        (AWS | SMTP, "ses"),
        (SG | AWS | SMTP, "sendgrid"),
        (SG | AWS | SMTP | {"WEEKLY_REPORT_EMAIL_PROVIDER": "SMTP"}, "smtp"),
        (SG | {"WEEKLY_REPORT_EMAIL_PROVIDER": "console"}, "console"),
        ({"WEEKLY_REPORT_EMAIL_PROVIDER": "ses"}, "ses"),  # boto3 finds credentials its own way
    ],
)
def test_the_first_configured_provider_is_chosen_unless_one_is_named(
    environ: dict[str, str], chosen: str
) -> None:
    settings = load_settings(environ | {"WEEKLY_REPORT_CONFIG": "/nonexistent.toml"})
    assert settings.chosen_email_provider == chosen


def test_smtp_settings_are_typed_and_secrets_stay_out_of_repr() -> None:
    s = load_settings(
        SG
        | AWS
        | SMTP
        | {"SMTP_PORT": "2525", "SMTP_USE_TLS": "true", "WEEKLY_REPORT_CONFIG": "/nonexistent.toml"}
    )
    assert (s.smtp_port, s.smtp_use_tls, s.email_from) == (2525, True, "weekly-report@localhost")
    assert "SG.key" not in repr(s) and "aws-secret" not in repr(s) and "smtp-secret" not in repr(s)
    assert "AKID" not in repr(s)


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"WEEKLY_REPORT_EMAIL_PROVIDER": "pigeon"}, "must be one of sendgrid, ses, smtp, console"),
        ({"WEEKLY_REPORT_EMAIL_PROVIDER": "sendgrid"}, "SENDGRID_API_KEY is not set"),
        ({"WEEKLY_REPORT_EMAIL_PROVIDER": "smtp"}, "SMTP_HOST is not set"),
        ({"SMTP_USE_TLS": "maybe"}, "SMTP_USE_TLS has an invalid value"),
        ({"SMTP_PORT": "0"}, "SMTP_PORT must be a port number"),
        ({"AWS_ACCESS_KEY_ID": "AKID"}, "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ({"WEEKLY_REPORT_EMAIL_FROM": "not an address"}, "WEEKLY_REPORT_EMAIL_FROM must be an email address"),
        ({"WEEKLY_REPORT_EMAIL_FROM": "a@b.test\r\nBcc: c@d.test"}, "WEEKLY_REPORT_EMAIL_FROM must be"),
        (SMTP | {"SMTP_USERNAME": "mailer"}, "the password would cross the network in clear text"),
    ],
)
def test_bad_email_settings_are_refused_in_one_line(environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        load_settings(environ | {"WEEKLY_REPORT_CONFIG": "/nonexistent.toml"})
    assert "\n" not in str(caught.value)


def test_smtp_auth_without_tls_is_only_for_a_relay_on_this_host() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        local = SMTP | {
            "SMTP_HOST": host,
            "SMTP_USERNAME": "mailer",
            "WEEKLY_REPORT_CONFIG": "/nonexistent.toml",
        }
        assert load_settings(local).smtp_username == "mailer"
    secured = SMTP | {
        "SMTP_USERNAME": "mailer",
        "SMTP_USE_TLS": "true",
        "WEEKLY_REPORT_CONFIG": "/nonexistent.toml",
    }
    assert load_settings(secured).smtp_use_tls is True


def test_a_named_sender_is_accepted() -> None:
    s = load_settings(
        {"WEEKLY_REPORT_EMAIL_FROM": "Weekly Report <reports@acme.test>", "WEEKLY_REPORT_CONFIG": "/x"}
    )
    assert s.email_from == "Weekly Report <reports@acme.test>"
