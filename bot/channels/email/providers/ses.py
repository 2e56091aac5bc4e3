"""AWS SES through boto3's `sesv2` client: `send_email` with the raw MIME message.

botocore's own retries are off (one attempt per call): a retry it made after an ambiguous
failure could send an email twice, and the channel retries definite failures itself.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProxyConnectionError,
    SSLError,
)

from bot.channels.email.providers.base import Provider, envelope, redact
from core.errors import EmailError

DEFAULT_REGION = "us-east-1"
THROTTLED = {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}


class SesProvider(Provider):
    name = "ses"

    def __init__(
        self,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        """Without keys, boto3 finds credentials its own way (a profile, an instance role)."""
        self._secrets = (secret_access_key, access_key_id)
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region or DEFAULT_REGION,
        )
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30
        )
        self.client: Any = session.client("sesv2", endpoint_url=endpoint_url, config=config)

    def send(self, message: EmailMessage) -> str:
        sender, recipients = envelope(message)
        try:
            response = self.client.send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": recipients},
                Content={"Raw": {"Data": message.as_bytes(policy=policy.SMTP)}},
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            retry = status >= 500 or status == 429 or error.get("Code") in THROTTLED
            text = f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message', '')}"
            raise self._error(text, permanent=not retry) from exc
        except (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError) as exc:
            raise self._error(f"cannot connect ({type(exc).__name__})") from exc
        except SSLError as exc:  # the TLS handshake failed: nothing was sent, and a retry fails the same
            raise self._error(
                f"TLS failed ({type(exc).__name__}); check the endpoint's certificate", permanent=True
            ) from exc
        except (NoCredentialsError, PartialCredentialsError, ParamValidationError) as exc:
            raise self._error(str(exc), permanent=True) from exc
        except BotoCoreError as exc:  # read timeouts, closed connections: it may have gone out
            raise self._error(f"no answer ({type(exc).__name__})", uncertain=True) from exc
        return str(response.get("MessageId") or message["Message-ID"])

    def close(self) -> None:
        self.client.close()

    def _error(self, text: str, *, uncertain: bool = False, permanent: bool = False) -> EmailError:
        return EmailError(redact(f"SES: {text}", *self._secrets), uncertain=uncertain, permanent=permanent)
