"""A local Slack incoming webhook: http.server on 127.0.0.1 answering as hooks.slack.com does.

`POST <path>` with a JSON body `{"text": ...}` (Content-Type application/json, or a form
field `payload` holding that JSON) answers 200 `ok` and records the message. As Slack does,
it answers 404 `no_service` on any other path (a wrong or revoked URL), 400
`invalid_payload` for a body it cannot read and 400 `no_text` without text. Tests script
the next answers with `answer(...)`: a status, a body, headers (e.g. Retry-After), a delay
before answering (a hang), `drop` (read the request, close without an answer), or None
(answer that one as Slack would).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

# Shaped like a real webhook's path: /services/<team>/<bot>/<secret>.
WEBHOOK_PATH = "/services/T0LOCAL01/B0LOCAL01/s3cretW3bh00kPathXYZ"


@dataclass(frozen=True)
class Answer:
    """One scripted answer: status and body, extra headers, seconds to wait first, or drop."""

    status: int = 200
    body: str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Request:
    """One request as the server read it."""

    path: str
    content_type: str
    body: bytes
    answered: int | None  # the status answered (None: dropped)


class WebhookServer:
    """Slack's incoming-webhook endpoint on 127.0.0.1 (see the module docstring)."""

    def __init__(self, path: str = WEBHOOK_PATH) -> None:
        self.path = path
        self.requests: list[Request] = []
        self.messages: list[str] = []  # the texts accepted (answered 200 ok), in order
        self._script: list[Answer | None] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True  # a hung answer does not hold up shutdown
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base + path
        # A short poll so that shutdown, at the end of every test, takes milliseconds.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def answer(self, *answers: Answer | None) -> None:
        """Answer the next requests so, in order (None: as Slack would); then as Slack would."""
        with self._lock:
            self._script.extend(answers)

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _next(self) -> Answer | None:
        """The next scripted answer; None when there is none, or it is None."""
        with self._lock:
            return self._script.pop(0) if self._script else None

    def _slack(self, path: str, content_type: str, body: bytes) -> Answer:
        """What hooks.slack.com answers a request that nothing scripted."""
        if path != self.path:
            return Answer(404, "no_service")
        payload = _payload(content_type, body)
        if payload is None:
            return Answer(400, "invalid_payload")
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            return Answer(400, "no_text")
        with self._lock:
            self.messages.append(text)
        return Answer()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                content_type = self.headers.get("Content-Type", "")
                scripted = hook._next()
                answer = scripted or hook._slack(self.path, content_type, body)
                with hook._lock:
                    status = None if answer.drop else answer.status
                    hook.requests.append(Request(self.path, content_type, body, status))
                if answer.delay:
                    hook._stop.wait(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    return
                data = answer.body.encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (a hang longer than its timeout)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _payload(content_type: str, body: bytes) -> dict[str, Any] | None:
    """The message as Slack reads it: a JSON body, or JSON in the form field `payload`."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            value = json.loads(body)
        elif kind == "application/x-www-form-urlencoded":
            value = json.loads(parse_qs(body.decode())["payload"][0])
        else:
            return None
    except (ValueError, KeyError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
