"""How requests to the Cortex Agent REST API authenticate.

    PROGRAMMATIC_ACCESS_TOKEN, OAUTH   Authorization: Bearer <CORTEX_TOKEN>
                                       X-Snowflake-Authorization-Token-Type: <type>
    KEYPAIR_JWT                        Bearer <a JWT signed with the user's RSA key>, renewed
                                       before it expires (or CORTEX_TOKEN as a ready-made JWT)
    SNOWFLAKE_SESSION                  Authorization: Snowflake Token="<session token>" of a
                                       snowflake-connector session, with no type header

Credentials never appear in a repr, a log line or an error message: `redact` blanks them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from core.errors import AgentUnavailable, ConfigError

TYPE_HEADER = "X-Snowflake-Authorization-Token-Type"
JWT_LIFETIME = 59 * 60  # Snowflake accepts at most one hour
JWT_RENEW_BEFORE = 5 * 60


class Auth(ABC):
    """Supplies the authentication headers of each request."""

    @abstractmethod
    def headers(self) -> dict[str, str]:
        """The headers to send now."""

    def refresh(self) -> bool:
        """After a 401: get fresh credentials if this kind can; True if a retry may now succeed."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """Every credential this auth has sent, for redaction."""
        return ()

    def redact(self, text: str) -> str:
        """`text` with every credential blanked. Call it on whole messages, before shortening
        them: a credential cut in two is no longer recognised. Longest first, so that a
        credential containing another is blanked whole."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the auth holds (a connector session)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BearerToken(Auth):
    """A programmatic access token, an OAuth access token or a ready-made key-pair JWT."""

    def __init__(self, token: str, token_type: str) -> None:
        self._token = token
        self.token_type = token_type

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", TYPE_HEADER: self.token_type}

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)


class KeyPairJWT(Auth):
    """A JWT as Snowflake's key-pair authentication documents it, renewed before it expires.

    iss = ACCOUNT.USER.SHA256:<base64 SHA-256 of the DER public key>, sub = ACCOUNT.USER,
    signed RS256; ACCOUNT is upper-case without any region or `.global` suffix.
    """

    token_type = "KEYPAIR_JWT"

    def __init__(
        self, account: str, user: str, private_key: RSAPrivateKey, clock: Callable[[], float] = time.time
    ) -> None:
        self.account = jwt_account(account)
        self.user = user.upper()
        self._key = private_key
        self._clock = clock
        self.fingerprint = public_key_fingerprint(private_key)
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0
        self._issued: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", TYPE_HEADER: self.token_type}

    def token(self) -> str:
        """The current JWT, renewed when it has less than five minutes left."""
        with self._lock:
            now = self._clock()
            if now >= self._expires - JWT_RENEW_BEFORE:
                self._token, self._expires = self._sign(now), now + JWT_LIFETIME
                self._issued = [*self._issued[-1:], self._token]
            return self._token

    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._issued)

    def _sign(self, now: float) -> str:
        qualified = f"{self.account}.{self.user}"
        claims = {
            "iss": f"{qualified}.{self.fingerprint}",
            "sub": qualified,
            "iat": int(now),
            "exp": int(now) + JWT_LIFETIME,
        }
        return jwt.encode(claims, self._key, algorithm="RS256")


class SessionToken(Auth):
    """The session token of a snowflake-connector connection, reconnecting when it is refused."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._conn: Any = None
        self._seen: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f'Snowflake Token="{self._token()}"'}

    def refresh(self) -> bool:
        with self._lock:
            self._drop()
        return True

    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._seen)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _token(self) -> str:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            token = str(self._conn.rest.token or "")
            if not token:
                raise AgentUnavailable("the Snowflake session has no token; check SNOWFLAKE_CONNECTION_NAME")
            if token not in self._seen:
                self._seen = [*self._seen[-3:], token]
            return token

    def _open(self) -> Any:
        import snowflake.connector.errors

        try:
            return self._connect()
        except snowflake.connector.errors.Error as exc:
            message = " ".join(str(getattr(exc, "msg", None) or exc).split())
            raise AgentUnavailable(
                f"cannot open a Snowflake session for the Cortex agent: {message}; "
                "check SNOWFLAKE_CONNECTION_NAME"
            ) from exc
        except (KeyError, ValueError, OSError) as exc:
            raise ConfigError(
                f"the Snowflake connection for CORTEX_TOKEN_TYPE=SNOWFLAKE_SESSION is not usable "
                f"({type(exc).__name__}); check SNOWFLAKE_CONNECTION_NAME and connections.toml"
            ) from exc

    def _drop(self) -> None:
        if self._conn is not None:
            # Closing a session that is already dead must not mask the error being handled.
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def jwt_account(account: str) -> str:
    """The account as a JWT names it: `xy12345.us-east-1` -> `XY12345`, `org-acct` -> `ORG-ACCT`."""
    account = account.strip()
    account = account.partition("-")[0] if ".global" in account else account.partition(".")[0]
    return account.upper()


def public_key_fingerprint(private_key: RSAPrivateKey) -> str:
    """`SHA256:` + base64 of the SHA-256 of the public key in DER (SubjectPublicKeyInfo)."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def load_private_key(path: Path, passphrase: str | None) -> RSAPrivateKey:
    """An RSA private key from a PEM (or DER) file, decrypted with `passphrase` if it is encrypted."""
    try:
        data = path.expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the private key {path} ({exc.strerror}); check CORTEX_PRIVATE_KEY_FILE"
        ) from exc
    password = passphrase.encode() if passphrase else None
    loader = (
        serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=password)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the private key {path}: wrong or missing passphrase, or not a private key; "
            "check CORTEX_PRIVATE_KEY_FILE and CORTEX_PRIVATE_KEY_PASSPHRASE"
        ) from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(f"the private key {path} is not an RSA key; Snowflake key-pair auth needs RSA")
    return key
