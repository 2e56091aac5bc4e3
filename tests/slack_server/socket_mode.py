"""The Socket Mode endpoint: a real WebSocket server (the `websockets` package) on its own event loop.

It knows nothing of envelopes: it admits connections whose ticket the owner accepts, sends
the owner's `hello`, passes every text frame up, and sends text on a connection when asked.
Pings from the client are answered with pongs by `websockets` itself, and the server pings
every connection, as Slack does (its clients time out a connection whose server stops pinging).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

# Slack pings every few seconds; this server pings often, because slack_sdk's built-in client
# reads under a lock with a 3 s timeout and its close() waits for that lock: a frame arriving
# ends the read, so a test's bot stops in a tenth of a second instead of up to three.
PING_INTERVAL = 0.1


@dataclass(frozen=True)
class SocketHooks:
    """What the owner decides: which tickets are good, the hello, and what to do with frames."""

    accept_ticket: Callable[[str], bool]
    hello: Callable[[int], str]  # registers the connection, returns the hello frame
    opened: Callable[[int], None]  # the hello has been sent
    received: Callable[[int, str], None]
    closed: Callable[[int], None]


class SocketModeServer:
    """WebSocket server on 127.0.0.1 at an ephemeral port, run from a background thread."""

    def __init__(self, hooks: SocketHooks, ping_interval: float | None = PING_INTERVAL) -> None:
        self._hooks = hooks
        self._ping_interval = ping_interval
        self._ids = itertools.count(1)
        self._connections: dict[int, ServerConnection] = {}
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="slack-socket-mode")
        self.port = 0

    def start(self, timeout: float = 10) -> None:
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the Socket Mode server did not start: {self._error}")
        self._thread.name = f"slack-socket-mode-{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """Close every connection (code 1001, as Slack does when it goes away) and end the thread."""
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def send(self, connection_id: int, text: str, timeout: float = 5) -> None:
        """Send one text frame and wait until it is written; ConnectionError if that socket is gone."""
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            raise ConnectionError(f"Socket Mode connection {connection_id} is closed")
        future = asyncio.run_coroutine_threadsafe(connection.send(text), self._loop)
        try:
            future.result(timeout)
        except ConnectionClosed as exc:
            raise ConnectionError(f"Socket Mode connection {connection_id} closed while sending") from exc

    def send_soon(self, connection_id: int, text: str) -> None:
        """Queue a frame without waiting (for frames sent from inside a Web API call)."""
        connection = self._connections.get(connection_id)
        if connection is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_send_quietly(connection, text)))

    def close_soon(self, connection_id: int) -> None:
        """Close one connection (code 1001) without waiting."""
        connection = self._connections.get(connection_id)
        if connection is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(connection.close(1001, "refresh")))

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with serve(
            self._serve, "127.0.0.1", 0, process_request=self._check_ticket,
            ping_interval=self._ping_interval, ping_timeout=None,  # no timeout: a busy test host is no fault
        ) as server:  # fmt: skip
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stopping.wait()

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        if url.path.rstrip("/") != "/link" or not self._hooks.accept_ticket(ticket):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        connection_id = next(self._ids)
        self._connections[connection_id] = connection
        try:
            await connection.send(self._hooks.hello(connection_id))
            self._hooks.opened(connection_id)
            async for frame in connection:
                self._hooks.received(
                    connection_id, frame if isinstance(frame, str) else frame.decode("utf-8")
                )
        except ConnectionClosed:
            pass
        finally:
            del self._connections[connection_id]
            self._hooks.closed(connection_id)


async def _send_quietly(connection: ServerConnection, text: Any) -> None:
    with contextlib.suppress(ConnectionClosed):
        await connection.send(text)
