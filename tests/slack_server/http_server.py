"""A threaded HTTP server on 127.0.0.1 that hands every request to one function and writes back JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (verb, path with query, headers with lower-case names, body) -> (status, extra headers, body): a
# dict body is written as JSON, bytes as plain text (the file upload URL answers "OK - <size>").
App = Callable[[str, str, Mapping[str, str], bytes], tuple[int, dict[str, str], dict[str, Any] | bytes]]


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread: nothing outlives stop()
    block_on_close = True
    # socketserver's default backlog is 5: a burst of connections beyond it is dropped and the
    # client's SYN retried a second later, which Slack never does to a client.
    request_queue_size = 256

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection, as urllib (slack_sdk) expects anyway

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client went away mid-request (killed between http.client's write of the
            # headers and that of the body): Slack never gets the request whole, so runs none of it.
            self.close_connection = True
            return
        status, headers, payload = self.server.app(
            self.command, self.path, {name.lower(): value for name, value in self.headers.items()}, body
        )
        text = isinstance(payload, bytes)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{'text/plain' if text else 'application/json'}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the server's own records say what happened."""


class HttpServer:
    """Serves `app` from a background thread until `stop()`."""

    def __init__(self, app: App) -> None:
        self._server = _Server(app)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"slack-http-{self.port}"
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
