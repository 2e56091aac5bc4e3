"""Settings, merged once from defaults, an optional `weekly-report.toml` and the environment.

The environment wins over the file. Each setting's environment name is the upper-case of
its file key: `backend = "embedded"` in the file is `WEEKLY_REPORT_BACKEND` in the
environment (see ENV_NAMES). Secrets are kept out of `repr()` so they never reach a log.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError

DEFAULT_AGENT = "SNOWFLAKE_INTELLIGENCE.AGENTS.EXECUTIVE_REVIEW_ASSISTANT"
# The Cortex agent that writes the sales-coaching review (sql/coaching_agent.sql creates it).
DEFAULT_COACHING_AGENT = "SNOWFLAKE_INTELLIGENCE.AGENTS.SALES_COACHING_ASSISTANT"

# file key -> environment variable
ENV_NAMES = {
    "backend": "WEEKLY_REPORT_BACKEND",
    "home": "WEEKLY_REPORT_HOME",
    "snowflake_connection_name": "SNOWFLAKE_CONNECTION_NAME",
    "snowflake_connections_file": "SNOWFLAKE_CONNECTIONS_FILE",
    "agent": "WEEKLY_REPORT_AGENT",
    "cortex_agent": "CORTEX_AGENT",
    "cortex_coaching_agent": "CORTEX_COACHING_AGENT",
    "cortex_base_url": "CORTEX_BASE_URL",
    "cortex_token": "CORTEX_TOKEN",
    "cortex_token_type": "CORTEX_TOKEN_TYPE",
    "cortex_timeout": "CORTEX_TIMEOUT",
    "cortex_turn_timeout": "CORTEX_TURN_TIMEOUT",
    "cortex_max_retry_after": "CORTEX_MAX_RETRY_AFTER",
    "cortex_account": "CORTEX_ACCOUNT",
    "cortex_user": "CORTEX_USER",
    "cortex_private_key_file": "CORTEX_PRIVATE_KEY_FILE",
    "cortex_private_key_passphrase": "CORTEX_PRIVATE_KEY_PASSPHRASE",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "schedule": "WEEKLY_REPORT_SCHEDULE",
    "timezone": "WEEKLY_REPORT_TZ",
    "admins": "WEEKLY_REPORT_ADMINS",
    "rollup_channel": "WEEKLY_REPORT_ROLLUP_CHANNEL",
    "alert_channel": "WEEKLY_REPORT_ALERT_CHANNEL",
    "coaching_schedule": "WEEKLY_REPORT_COACHING_SCHEDULE",
    "coaching_channel": "WEEKLY_REPORT_COACHING_CHANNEL",
    "slack_webhook_url": "SLACK_WEBHOOK_URL",
    "delivery": "WEEKLY_REPORT_DELIVERY",
    "concurrency": "WEEKLY_REPORT_CONCURRENCY",
    "agent_rpm": "WEEKLY_REPORT_AGENT_RPM",
    "slack_post_interval": "WEEKLY_REPORT_POST_INTERVAL",
    "slack_streaming": "WEEKLY_REPORT_STREAMING",
    "slack_timeout": "WEEKLY_REPORT_SLACK_TIMEOUT",
    "today": "WEEKLY_REPORT_TODAY",
    "email_provider": "WEEKLY_REPORT_EMAIL_PROVIDER",
    "email_from": "WEEKLY_REPORT_EMAIL_FROM",
    "sendgrid_api_key": "SENDGRID_API_KEY",
    "sendgrid_api_url": "SENDGRID_API_URL",
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_default_region": "AWS_DEFAULT_REGION",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_username": "SMTP_USERNAME",
    "smtp_password": "SMTP_PASSWORD",
    "smtp_use_tls": "SMTP_USE_TLS",
    "charts": "WEEKLY_REPORT_CHARTS",
}
SECRET_KEYS = {
    "cortex_token", "cortex_private_key_passphrase", "slack_bot_token", "slack_app_token",
    "sendgrid_api_key", "aws_secret_access_key", "smtp_password", "slack_webhook_url",
}  # fmt: skip
# Email providers in the order the first configured one is chosen (console: none is).
EMAIL_PROVIDERS = ("sendgrid", "ses", "smtp", "console")
DEFAULT_EMAIL_FROM = "weekly-report@localhost"
# How CORTEX_TOKEN is presented; SNOWFLAKE_SESSION takes the connector's session token instead.
CORTEX_TOKEN_TYPES = ("PROGRAMMATIC_ACCESS_TOKEN", "OAUTH", "KEYPAIR_JWT", "SNOWFLAKE_SESSION")
# The delivery channels WEEKLY_REPORT_DELIVERY may name (bot/channels registers one of each).
DELIVERY_CHANNELS = ("slack", "email", "console")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")


@dataclass(frozen=True)
class Settings:
    """Every setting of weekly-report, validated."""

    backend: str = "embedded"
    home: Path = Path(".weekly-report")
    snowflake_connection_name: str | None = None
    # connections.toml to read; default: the connector's own ($SNOWFLAKE_HOME or ~/.snowflake)
    snowflake_connections_file: Path | None = None
    agent: str = "local"
    cortex_agent: str = DEFAULT_AGENT
    cortex_coaching_agent: str = DEFAULT_COACHING_AGENT
    cortex_base_url: str | None = None
    cortex_token: str | None = field(default=None, repr=False)
    cortex_token_type: str = "PROGRAMMATIC_ACCESS_TOKEN"
    cortex_timeout: float = 120.0  # seconds to connect, and between two reads of an answer
    # Seconds a whole call may take (a turn with its retries, backoff and rate-limit waits).
    cortex_turn_timeout: float = 120.0
    # The longest Retry-After honoured; a longer one fails the call at once, pausing no one.
    cortex_max_retry_after: float = 60.0
    # KEYPAIR_JWT: the account and user the JWT names, and the RSA key that signs it.
    # Unset, they come from the Snowflake connection (connections.toml).
    cortex_account: str | None = None
    cortex_user: str | None = None
    cortex_private_key_file: Path | None = None
    cortex_private_key_passphrase: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    schedule: str = "0 8 * * MON"
    timezone: str = "America/Los_Angeles"
    admins: tuple[str, ...] = ()
    rollup_channel: str | None = None
    alert_channel: str | None = None
    # The sales-coaching review (core/kinds/coaching): its own cron, always in UTC (Monday
    # 06:00 by default), and where its team summary goes: the incoming webhook when set (its
    # URL is a secret: anyone holding it can post), else this channel by the bot.
    coaching_schedule: str = "0 6 * * MON"
    coaching_channel: str | None = None
    slack_webhook_url: str | None = field(default=None, repr=False)
    # Where the weekly reports go (a CSM may add or drop email for themselves). Loaded settings
    # always name some: default slack with SLACK_BOT_TOKEN, else console. Empty here (Settings()
    # built in code): slack when the weekly job is given a Slack client, else console.
    delivery: tuple[str, ...] = ()
    concurrency: int = 4
    agent_rpm: int = 600
    # Seconds between posts to one Slack channel. Unset: Slack's 1 s plus bot.delivery's margin;
    # tests whose subject is not pacing set 0 (the workspace budget per minute still holds).
    slack_post_interval: float | None = None
    # Follow-up answers streamed into Slack threads (chat.startStream) with a thread status;
    # off: posted and edited in place, as where Slack says streaming is not available.
    slack_streaming: bool = True
    # Seconds a Slack Web API call may take before the client gives up. Also how long a post
    # sent by a process that died may still land: a resumed delivery waits that long (from its
    # start) before it posts what it did not find (bot/channels/slack_dm/delivery.py).
    slack_timeout: float = 30.0
    # Pins "today" (YYYY-MM-DD) for reproducible runs and tests; normally unset.
    today: dt.date | None = None
    # Email (bot/channels/email): the provider, else the first configured of EMAIL_PROVIDERS.
    email_provider: str | None = None
    email_from: str = DEFAULT_EMAIL_FROM  # an address, or "Name <address>"
    sendgrid_api_key: str | None = field(default=None, repr=False)
    sendgrid_api_url: str = "https://api.sendgrid.com"
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_default_region: str | None = None  # SES's region; us-east-1 when unset
    aws_endpoint_url: str | None = None  # another SES endpoint (a local one in tests)
    smtp_host: str | None = None
    smtp_port: int | None = None  # default 587 with SMTP_USE_TLS, else 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_use_tls: bool = False  # STARTTLS after connecting
    # Chart images with each report (Slack thread uploads, inline email images, the console's
    # chart folder); off (WEEKLY_REPORT_CHARTS=off) sends the text alone, as before charts.
    charts: bool = True

    @property
    def chosen_email_provider(self) -> str:
        """WEEKLY_REPORT_EMAIL_PROVIDER, else the first provider configured, else the console."""
        if self.email_provider:
            return self.email_provider
        if self.sendgrid_api_key:
            return "sendgrid"
        if self.aws_access_key_id and self.aws_secret_access_key:
            return "ses"
        return "smtp" if self.smtp_host else "console"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def current_date(self) -> dt.date:
        """Today in the configured timezone (or the pinned date)."""
        return self.today or dt.datetime.now(self.tz).date()

    def is_admin(self, *identities: str | None) -> bool:
        wanted = {i.lower() for i in self.admins}
        return any(i and i.lower() in wanted for i in identities)


def load_settings(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build Settings from defaults, then `weekly-report.toml` (if present), then the environment."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    path = config_file or Path(environ.get("WEEKLY_REPORT_CONFIG", "weekly-report.toml"))
    if path.is_file():
        raw.update(_read_file(path))
    for key, env_name in ENV_NAMES.items():
        if environ.get(env_name, "").strip():
            raw[key] = environ[env_name].strip()
    if "snowflake_connection_name" not in raw and environ.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"):
        raw["snowflake_connection_name"] = environ["SNOWFLAKE_DEFAULT_CONNECTION_NAME"]
    if "snowflake_connections_file" not in raw and environ.get("SNOWFLAKE_HOME"):
        raw["snowflake_connections_file"] = str(Path(environ["SNOWFLAKE_HOME"]) / "connections.toml")
    if "delivery" not in raw:
        raw["delivery"] = "slack" if raw.get("slack_bot_token") else "console"
    return _build(raw)


def _read_file(path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    unknown = set(data) - set(ENV_NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    return data


def _build(raw: dict[str, object]) -> Settings:
    kinds = {f.name: f.type for f in fields(Settings)}
    values: dict[str, object] = {}
    for key, value in raw.items():
        values[key] = _convert(key, kinds[key], value)
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _convert(key: str, kind: object, value: object) -> object:
    env_name = ENV_NAMES[key]
    try:
        if kind in ("Path", "Path | None"):
            return Path(str(value)).expanduser()
        if kind in ("int", "int | None"):
            return int(str(value))
        if kind == "bool":
            return _boolean(value)
        if kind in ("float", "float | None"):
            return float(str(value))
        if kind == "tuple[str, ...]":
            items = value if isinstance(value, list) else str(value).split(",")
            names = tuple(str(i).strip() for i in items if str(i).strip())
            return _delivery(names) if key == "delivery" else names
        if kind == "dt.date | None":
            return dt.date.fromisoformat(str(value))
        if key == "cortex_token_type":
            return str(value).strip().upper()
        if key == "email_provider":
            return str(value).strip().lower()
    except ValueError:
        raise ConfigError(f"{env_name} has an invalid value for {key}") from None
    return str(value)


def _validate(s: Settings) -> None:
    if s.backend not in ("embedded", "snowflake"):
        raise ConfigError(f"WEEKLY_REPORT_BACKEND must be 'embedded' or 'snowflake', not '{s.backend}'")
    if s.agent not in ("local", "cortex"):
        raise ConfigError(f"WEEKLY_REPORT_AGENT must be 'local' or 'cortex', not '{s.agent}'")
    if s.concurrency < 1 or s.agent_rpm < 1 or s.cortex_timeout <= 0 or s.cortex_turn_timeout <= 0:
        raise ConfigError(
            "WEEKLY_REPORT_CONCURRENCY, WEEKLY_REPORT_AGENT_RPM, CORTEX_TIMEOUT and CORTEX_TURN_TIMEOUT "
            "must be positive"
        )
    if not math.isfinite(s.cortex_turn_timeout):
        raise ConfigError("CORTEX_TURN_TIMEOUT must be a number of seconds")
    if not (math.isfinite(s.cortex_max_retry_after) and s.cortex_max_retry_after >= 0):
        raise ConfigError("CORTEX_MAX_RETRY_AFTER must be a number of seconds, 0 or more")
    if s.slack_post_interval is not None and not s.slack_post_interval >= 0:
        raise ConfigError("WEEKLY_REPORT_POST_INTERVAL must be a number of seconds, 0 or more")
    if not (math.isfinite(s.slack_timeout) and s.slack_timeout > 0):
        raise ConfigError("WEEKLY_REPORT_SLACK_TIMEOUT must be a number of seconds, more than 0")
    _validate_delivery(s.delivery)
    if s.cortex_token_type not in CORTEX_TOKEN_TYPES:
        raise ConfigError(
            f"CORTEX_TOKEN_TYPE must be one of {', '.join(CORTEX_TOKEN_TYPES)}, not '{s.cortex_token_type}'"
        )
    agent_name_parts(s.cortex_agent)
    _validate_email(s)
    if s.slack_webhook_url is not None and not _webhook_url_ok(s.slack_webhook_url):
        # Never echoed: the URL's path is the webhook's secret.
        raise ConfigError(
            "SLACK_WEBHOOK_URL must be an https:// URL such as https://hooks.slack.com/services/..."
        )
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"WEEKLY_REPORT_TZ '{s.timezone}' is not a known timezone") from None


def _webhook_url_ok(url: str) -> bool:
    """https with a host and a path, or http to this machine (a local test server)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        return False
    local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")
    path_ok = parts.path not in ("", "/") and not any(c.isspace() for c in url)
    return bool(parts.hostname) and (parts.scheme == "https" or local) and path_ok


def _delivery(names: tuple[str, ...]) -> tuple[str, ...]:
    """WEEKLY_REPORT_DELIVERY as given: lower-case, each channel once, at least one."""
    if not names:
        raise ConfigError(
            "WEEKLY_REPORT_DELIVERY names no channel; use slack, email, console or e.g. slack,email"
        )
    return tuple(dict.fromkeys(n.lower() for n in names))


def _validate_delivery(delivery: tuple[str, ...]) -> None:
    unknown = [name for name in delivery if name not in DELIVERY_CHANNELS]
    if unknown:
        raise ConfigError(
            f"WEEKLY_REPORT_DELIVERY: unknown channel '{unknown[0][:40]}'; use {', '.join(DELIVERY_CHANNELS)} "
            "or a comma list such as slack,email"
        )


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _validate_email(s: Settings) -> None:
    if s.email_provider is not None and s.email_provider not in EMAIL_PROVIDERS:
        raise ConfigError(
            f"WEEKLY_REPORT_EMAIL_PROVIDER must be one of {', '.join(EMAIL_PROVIDERS)}, not '{s.email_provider[:40]}'"
        )
    if s.email_provider == "sendgrid" and not s.sendgrid_api_key:
        raise ConfigError("WEEKLY_REPORT_EMAIL_PROVIDER is sendgrid but SENDGRID_API_KEY is not set")
    if s.email_provider == "smtp" and not s.smtp_host:
        raise ConfigError("WEEKLY_REPORT_EMAIL_PROVIDER is smtp but SMTP_HOST is not set")
    if s.smtp_port is not None and not 0 < s.smtp_port < 65536:
        raise ConfigError("SMTP_PORT must be a port number, 1 to 65535")
    if bool(s.aws_access_key_id) != bool(s.aws_secret_access_key):
        raise ConfigError("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
    if s.smtp_host and s.smtp_username and not s.smtp_use_tls and not _loopback(s.smtp_host):
        raise ConfigError(
            "SMTP_USERNAME is set but SMTP_USE_TLS is not: the password would cross the network in "
            "clear text; set SMTP_USE_TLS=true (STARTTLS), or relay through a server on this host"
        )
    if not _is_address(s.email_from):
        raise ConfigError(
            f"WEEKLY_REPORT_EMAIL_FROM must be an email address or 'Name <address>', not '{' '.join(s.email_from.split())[:80]}'"
        )


def _loopback(host: str) -> bool:
    """Whether `host` is this machine (a local relay): credentials sent to it stay here."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_address(text: str) -> bool:
    """One mailbox, `name@domain` or `Name <name@domain>`, on one line."""
    if "\r" in text or "\n" in text:
        return False
    _, address = parseaddr(text)
    local, _, domain = address.rpartition("@")
    return bool(local and domain) and " " not in address


def agent_name_parts(name: str) -> tuple[str, str, str]:
    """CORTEX_AGENT as (database, schema, agent): three plain, unquoted identifiers."""
    parts = tuple(name.split("."))
    if len(parts) != 3 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ConfigError(
            f"CORTEX_AGENT '{name[:80]}' must be DATABASE.SCHEMA.AGENT of plain identifiers (no quotes), "
            f"e.g. {DEFAULT_AGENT}"
        )
    return parts[0], parts[1], parts[2]
