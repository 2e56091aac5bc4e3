"""Everything the Cortex client needs, resolved once from Settings (and connections.toml).

What the settings leave unset comes from the named Snowflake connection, if there is one:
the base URL from its `host` (or `account`), and for KEYPAIR_JWT its `account`, `user`,
`private_key_file` and `private_key_file_pwd`. Anything still missing is a ConfigError
naming the variable to set.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.agent.cortex.auth import Auth, BearerToken, KeyPairJWT, SessionToken, load_private_key
from core.errors import ConfigError
from core.settings import Settings, agent_name_parts

DEFAULT_CONNECTION = "default"  # the connector's own default connection name
TOKEN_KINDS = {"PROGRAMMATIC_ACCESS_TOKEN": "a programmatic access token", "OAUTH": "an OAuth access token"}


@dataclass(frozen=True)
class AgentName:
    """A Cortex agent object, DATABASE.SCHEMA.NAME."""

    database: str
    schema: str
    name: str

    @classmethod
    def parse(cls, qualified: str) -> AgentName:
        return cls(*agent_name_parts(qualified))

    @property
    def run_path(self) -> str:
        return f"/api/v2/databases/{self.database}/schemas/{self.schema}/agents/{self.name}:run"

    def __str__(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"


@dataclass(frozen=True)
class CortexConfig:
    base_url: str
    agent: AgentName
    timeout: float  # CORTEX_TIMEOUT: to connect, and between two reads
    rpm: int
    pool_size: int
    turn_timeout: float = 120.0  # CORTEX_TURN_TIMEOUT: a whole call, retries and waits included
    max_retry_after: float = 60.0  # CORTEX_MAX_RETRY_AFTER: the longest Retry-After honoured


def resolve(settings: Settings) -> tuple[CortexConfig, Auth]:
    """The client's configuration and credentials; ConfigError says what to set."""
    connection = _Connection(settings)
    config = CortexConfig(
        base_url=_base_url(settings, connection),
        agent=AgentName.parse(settings.cortex_agent),
        timeout=settings.cortex_timeout,
        rpm=settings.agent_rpm,
        pool_size=max(settings.concurrency * 2, 10),
        turn_timeout=settings.cortex_turn_timeout,
        max_retry_after=settings.cortex_max_retry_after,
    )
    return config, _auth(settings, connection)


class _Connection:
    """The named connection of connections.toml, read only if a value is needed from it."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.snowflake_connection_name or DEFAULT_CONNECTION
        self.path = settings.snowflake_connections_file or Path.home() / ".snowflake" / "connections.toml"
        self._values: Mapping[str, Any] | None = None

    def get(self, key: str) -> Any:
        if self._values is None:
            self._values = self._read()
        value = self._values.get(key)
        return value if value not in ("", None) else None

    def _read(self) -> Mapping[str, Any]:
        try:
            data = tomllib.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {self.path} ({type(exc).__name__}); check the file") from exc
        section = data.get(self.name)
        return section if isinstance(section, Mapping) else {}


def _base_url(settings: Settings, connection: _Connection) -> str:
    if settings.cortex_base_url:
        url = settings.cortex_base_url.strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"CORTEX_BASE_URL '{url[:80]}' must start with https://")
        return url
    host, account = connection.get("host"), connection.get("account")
    if host:
        port = connection.get("port")
        return f"{connection.get('protocol') or 'https'}://{host}" + (f":{port}" if port else "")
    if account:
        return f"https://{account}.snowflakecomputing.com"
    raise ConfigError(
        "the Cortex agent's URL is unknown: set CORTEX_BASE_URL (https://<account>.snowflakecomputing.com) "
        "or SNOWFLAKE_CONNECTION_NAME to a connection with an account"
    )


def _auth(settings: Settings, connection: _Connection) -> Auth:
    kind = settings.cortex_token_type
    if kind == "SNOWFLAKE_SESSION":
        return SessionToken(lambda: _connect(settings))
    if kind == "KEYPAIR_JWT" and not settings.cortex_token:
        return _key_pair(settings, connection)
    if not settings.cortex_token:
        raise ConfigError(
            f"CORTEX_TOKEN is not set; set it to {TOKEN_KINDS[kind]} (CORTEX_TOKEN_TYPE={kind}), or choose "
            "CORTEX_TOKEN_TYPE=KEYPAIR_JWT or SNOWFLAKE_SESSION"
        )
    return BearerToken(settings.cortex_token, kind)


def _key_pair(settings: Settings, connection: _Connection) -> KeyPairJWT:
    account = settings.cortex_account or connection.get("account")
    user = settings.cortex_user or connection.get("user")
    key_file = settings.cortex_private_key_file or connection.get("private_key_file")
    missing = [
        name
        for name, value in (
            ("CORTEX_ACCOUNT", account),
            ("CORTEX_USER", user),
            ("CORTEX_PRIVATE_KEY_FILE", key_file),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"CORTEX_TOKEN_TYPE=KEYPAIR_JWT needs {', '.join(missing)} (or the Snowflake connection's "
            "account/user/private_key_file, or a ready-made JWT in CORTEX_TOKEN)"
        )
    passphrase = settings.cortex_private_key_passphrase or connection.get("private_key_file_pwd")
    key = load_private_key(Path(str(key_file)), passphrase)
    return KeyPairJWT(str(account), str(user), key)


def _connect(settings: Settings) -> Any:
    import snowflake.connector

    options: dict[str, Any] = {}
    if settings.snowflake_connection_name:
        options["connection_name"] = settings.snowflake_connection_name
    if settings.snowflake_connections_file:
        options["connections_file_path"] = settings.snowflake_connections_file
    return snowflake.connector.connect(**options)
