"""The state `SlackServer` shares between its Web API side and its Socket Mode side, under one lock."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .faults import FaultRule, Hold, RateLimit
from .http_server import HttpServer
from .records import Ack, Call, Envelope
from .socket_mode import SocketModeServer
from .web_api import METHODS, Method
from .workspace import Workspace


@dataclass
class SocketState:
    """One Socket Mode connection: greeted, told to go away, gone."""

    ready: bool = False
    draining: bool = False
    closed: bool = False


class ServerState:
    """Everything the server records; every read and write holds `_cond`."""

    def __init__(
        self,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        echo_bot_events: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workspace = Workspace(team_id, bot_user_id, bot_id, app_id, clock)
        self.bot_token = f"xoxb-test-{secrets.token_hex(12)}"
        self.app_token = f"xapp-test-{secrets.token_hex(12)}"
        self.echo_bot_events = echo_bot_events
        self._verification_token = secrets.token_hex(12)
        self._cond = threading.Condition(threading.RLock())
        self._methods = {**METHODS, "apps.connections.open": Method(self._issue_socket_url, token="app")}
        self._calls: list[Call] = []
        self._faults: list[FaultRule] = []
        self._holds: list[Hold] = []
        self._limits: dict[str, RateLimit] = {}
        self._tickets: set[str] = set()
        self._sockets: dict[int, SocketState] = {}
        self._envelopes: dict[str, Envelope] = {}
        self._acks: dict[str, Ack] = {}
        self._frames: list[dict[str, Any]] = []
        # path -> (channel, user, ts of the message clicked in, for a block_actions response_url)
        self._response_urls: dict[str, tuple[str, str, str | None]] = {}
        self._http: HttpServer | None = None
        self._socket: SocketModeServer | None = None

    def _base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}" if self._http else "http://127.0.0.1:<not started>"

    def _issue_socket_url(self, ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # the Socket Mode side answers apps.connections.open

    def _deliver_soon(self, event: dict[str, Any]) -> None:
        raise NotImplementedError  # the Socket Mode side delivers events

    # waiting

    def wait_for(
        self, predicate: Callable[[], object], timeout: float = 10, *, what: str = "the condition"
    ) -> bool:
        """Poll `predicate` until true (re-checked on every change the server sees); TimeoutError after `timeout`.

        The predicate runs without the server's lock held, so it may call the server over HTTP.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{what} did not happen within {timeout}s")
            with self._cond:
                self._cond.wait(min(remaining, 0.05))
        return True

    def _locked(self, predicate: Callable[[], object]) -> Callable[[], object]:
        """`predicate` evaluated under the server's lock."""

        def check() -> object:
            with self._cond:
                return predicate()

        return check
