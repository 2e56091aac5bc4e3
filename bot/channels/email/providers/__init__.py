"""Email providers: SendGrid, AWS SES, SMTP, and the console when none is configured."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.channels.email.providers.base import Provider
from bot.channels.email.providers.console import ConsoleProvider
from core.settings import Settings

__all__ = ["Provider", "make_provider"]


def make_provider(settings: Settings, out: TextIO | None = None) -> Provider:
    """The provider the settings choose (Settings.chosen_email_provider); clients are imported lazily."""
    chosen = settings.chosen_email_provider
    if chosen == "sendgrid":
        from bot.channels.email.providers.sendgrid import SendGridProvider

        assert settings.sendgrid_api_key  # settings validation requires it
        return SendGridProvider(settings.sendgrid_api_key, settings.sendgrid_api_url)
    if chosen == "ses":
        from bot.channels.email.providers.ses import SesProvider

        return SesProvider(
            settings.aws_default_region,
            settings.aws_access_key_id,
            settings.aws_secret_access_key,
            settings.aws_endpoint_url,
        )
    if chosen == "smtp":
        from bot.channels.email.providers.smtp import SmtpProvider

        assert settings.smtp_host  # settings validation requires it
        return SmtpProvider(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_use_tls,
        )
    return ConsoleProvider(out or sys.stdout)
