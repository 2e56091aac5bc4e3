"""The console provider: prints the email's headers and text part (nothing is configured)."""

from __future__ import annotations

import threading
from email.message import EmailMessage
from typing import TextIO

from bot.channels.email.providers.base import Provider


class ConsoleProvider(Provider):
    name = "console"

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> str:
        text = message.get_body(("plain",))
        body = text.get_content() if text is not None else ""
        head = "".join(f"{k}: {message[k]}\n" for k in ("From", "To", "Subject", "Message-ID"))
        with self._lock:
            self.out.write(f"--- email (console: no provider configured) ---\n{head}\n{body}\n")
            self.out.flush()
        return str(message["Message-ID"])
