"""The email provider seam: hand one finished message to a service that sends it."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from email.message import EmailMessage
from typing import ClassVar


class Provider(ABC):
    """Sends finished messages; raises core.errors.EmailError (and only that) when it cannot.

    The sender and the recipient are the message's own From and To headers.
    """

    name: ClassVar[str]

    @abstractmethod
    def send(self, message: EmailMessage) -> str:
        """Send `message`; return the provider's id for it (its Message-ID when it has none)."""

    def turn(self) -> contextlib.AbstractContextManager[object]:
        """Held around a send and the ledger writes on either side of it: a provider with a few
        connections (SMTP) gives one here, so an email is counted as being sent only once it
        holds a connection, and its outcome is recorded before that connection takes the next.
        Providers that send side by side give no turn (the default)."""
        return contextlib.nullcontext()

    def close(self) -> None:  # noqa: B027 - most providers hold nothing
        """Release connections."""


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every secret replaced, then cut to one short line (redacted before cut)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return " ".join(text.split())[:300]


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The envelope sender and recipients: the bare addresses of From and To."""
    sender = message["From"].addresses[0].addr_spec
    return sender, [a.addr_spec for a in message["To"].addresses]
