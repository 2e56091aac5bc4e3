"""The Slack app factory: a real Bolt `App`, its Web API client, and every listener.

Only the runner (`weekly-report bot`) opens a socket; the console and the tests dispatch
real payloads to the same app.
"""

from __future__ import annotations

import logging
import math
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.cache import TtlCache
from bot.schedule import coaching_cron, cron
from bot.services import Services
from bot.slack.desk import Desk
from bot.slack.home import HomeTab
from bot.slack.identity import People
from bot.slack.listeners import register
from core import Settings
from core.errors import ConfigError

DEDUPE_SECONDS = 3600.0  # Slack retries an event for a few minutes; an hour covers that


def web_client(settings: Settings) -> WebClient:
    """The bot token's client for SLACK_API_URL, retrying rate limits (honouring Retry-After),
    server errors and dropped connections."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set; use the bot token (xoxb-...) of the app made from manifest.yml"
        )
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url.rstrip("/") + "/",  # the SDK appends method names to it
        timeout=math.ceil(settings.slack_timeout),  # slack_sdk declares whole seconds
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class _SameToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself, then warns that the client's
    token wins over it: they are the same setting, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("slack_bolt.App")
if not any(isinstance(f, _SameToken) for f in _BOLT_LOG.filters):
    _BOLT_LOG.addFilter(_SameToken())


def create_app(settings: Settings, services: Services, client: WebClient | None = None) -> App:
    """The Bolt app with every listener registered; checks the bot token with `auth.test`."""
    cron(settings, settings.tz)  # a malformed schedule fails here, at start-up
    if "coaching" in services.engines:
        coaching_cron(settings)  # help and App Home say when it next fires
    client = client or web_client(settings)
    try:
        app = App(
            client=client,
            name="weekly-report",
            request_verification_enabled=False,  # Socket Mode: there is no HTTP endpoint to sign
            attaching_conversation_kwargs_enabled=False,  # say() would call conversations.replies
            listener_executor=services.listeners,
        )
    except BoltError as exc:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN at {settings.slack_api_url} ({_reason(exc)}); "
            "check the token and SLACK_API_URL"
        ) from exc
    except (URLError, OSError) as exc:
        raise ConfigError(
            f"cannot reach Slack at {settings.slack_api_url} ({exc}); check SLACK_API_URL"
        ) from exc
    people = People(settings, services.engine, coaching=services.engines.get("coaching"))
    people.roster()  # loaded now, not by the first requests (and the warehouse is checked at start-up)
    register(app, Desk(services, people), HomeTab(services, people), TtlCache(DEDUPE_SECONDS))
    return app


def _reason(exc: BoltError) -> str:
    # Bolt's message for a failed auth.test carries Slack's response, which names the error.
    text = str(exc)
    for code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
        if code in text:
            return code
    return "auth.test failed"
