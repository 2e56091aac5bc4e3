"""`SlackServer`: Slack's Web API and Socket Mode on 127.0.0.1, for tests and benchmarks.

Web API calls arrive over HTTP at `api_url`; `apps.connections.open` hands out single-use
`ws://` URLs to the Socket Mode endpoint, where envelopes are sent and acks recorded. One
lock guards all state, so any thread may post, send envelopes, inspect and wait.
"""

from __future__ import annotations

import copy
from typing import Any

from .http_server import HttpServer
from .socket_mode import SocketHooks, SocketModeServer
from .socket_side import SocketModeSide
from .web_side import WebApiSide


class SlackServer(WebApiSide, SocketModeSide):
    """A local Slack workspace with one app installed. Use as a context manager, or start()/stop().

    With `echo_bot_events`, the app's own DM posts and edits come back as `message` /
    `message_changed` events, as they do from Slack.
    """

    def __init__(
        self,
        team_id: str = "T00000001",
        bot_user_id: str = "UBOT0001",
        bot_id: str = "BBOT0001",
        app_id: str = "A0WEEKLY01",
        *,
        echo_bot_events: bool = False,
    ) -> None:
        super().__init__(team_id, bot_user_id, bot_id, app_id, echo_bot_events)

    def __repr__(self) -> str:
        return f"SlackServer(team_id={self.workspace.team_id!r}, api_url={self._base_url() + '/api/'!r})"

    # lifecycle

    def start(self) -> SlackServer:
        hooks = SocketHooks(self._accept_ticket, self._hello, self._opened, self._received, self._closed)
        self._socket = SocketModeServer(hooks)
        self._socket.start()
        self._http = HttpServer(self._serve_http)
        self._http.start()
        return self

    def stop(self) -> None:
        """Close sockets, then the HTTP server; joins every thread the server started."""
        if self._socket is not None:
            self._socket.stop()
        if self._http is not None:
            self._http.stop()

    def __enter__(self) -> SlackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL for `WebClient(base_url=...)` / SLACK_API_URL."""
        return self._base_url() + "/api/"

    # workspace

    def add_user(self, user_id: str, *, email: str | None, name: str, tz: str = "America/New_York") -> None:
        """A person users.info and users.lookupByEmail know."""
        with self._cond:
            self.workspace.add_user(user_id, email=email, name=name, tz=tz)

    def dm_channel(self, user_id: str) -> str:
        """The D... channel of the bot's DM with a user (the one conversations.open returns)."""
        with self._cond:
            return self.workspace.dm_channel(user_id)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages currently stored in one channel (a user id means their DM), or in all; oldest first."""
        with self._cond:
            return self.workspace.messages(channel)

    @property
    def views_published(self) -> dict[str, list[dict[str, Any]]]:
        """Every view views.publish accepted, by user id, oldest first."""
        with self._cond:
            return copy.deepcopy(self.workspace.views)

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and ephemeral response_url posts)."""
        with self._cond:
            return copy.deepcopy(self.workspace.ephemerals)
