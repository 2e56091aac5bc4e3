"""`SlackServer`: Slack's Web API and Socket Mode on 127.0.0.1, for tests and benchmarks.

Web API calls arrive over HTTP at `api_url`; `apps.connections.open` hands out single-use
`ws://` URLs to the Socket Mode endpoint, where envelopes are sent and acks recorded. One
lock guards all state, so any thread may post, send envelopes, inspect and wait.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from .assistant_api import STATUS_EXPIRES_AFTER
from .http_server import HttpServer
from .records import StatusUpdate, Stream, Upload
from .socket_mode import SocketHooks, SocketModeServer
from .socket_side import SocketModeSide
from .web_side import WebApiSide


class SlackServer(WebApiSide, SocketModeSide):
    """A local Slack workspace with one app installed. Use as a context manager, or start()/stop().

    With `echo_bot_events`, the app's own DM posts and edits come back as `message` /
    `message_changed` events, as they do from Slack. `clock` (seconds, monotonic) times calls,
    streamed text and thread statuses; inject one to move time without waiting.
    """

    def __init__(
        self,
        team_id: str = "T00000001",
        bot_user_id: str = "UBOT0001",
        bot_id: str = "BBOT0001",
        app_id: str = "A0WEEKLY01",
        *,
        echo_bot_events: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(team_id, bot_user_id, bot_id, app_id, echo_bot_events, clock)

    def __repr__(self) -> str:
        return f"SlackServer(team_id={self.workspace.team_id!r}, api_url={self._base_url() + '/api/'!r})"

    # lifecycle

    def start(self) -> SlackServer:
        hooks = SocketHooks(self._accept_ticket, self._hello, self._opened, self._received, self._closed)
        self._socket = SocketModeServer(hooks)
        self._socket.start()
        self._http = HttpServer(self._serve_http)
        self._http.start()
        with self._cond:
            self.workspace.base_url = self._base_url()
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

    def leave_channel(self, channel: str) -> None:
        """The bot is no longer a member of `channel`: methods that need it answer not_in_channel."""
        with self._cond:
            self.workspace.outside.add(channel)

    # Slack's AI-app surface

    def streams(self, channel: str | None = None) -> list[Stream]:
        """Every streamed message (in one channel, a user id meaning their DM), oldest first.

        Each `Stream` keeps its pieces of text with the server-clock time each arrived
        (`appends`, `first_text_at`), whether it is still streaming, and its final blocks.
        """
        with self._cond:
            key = self.workspace.channel_key(channel) if channel else None
            found = [s for (c, _), s in self.workspace.streams.items() if key in (None, c)]
            return copy.deepcopy(found)

    def end_stream(self, channel: str, ts: str, *, by: str = "slack") -> None:
        """End a stream from Slack's side: `by="slack"` as when its streaming state expires (later
        calls get message_not_in_streaming_state), `by="user"` as when the person stops it
        (stopped_by_user). What was streamed stays in the message."""
        if by not in ("slack", "user"):
            raise ValueError(f"by must be 'slack' or 'user', not {by!r}")
        with self._cond:
            stream = self.workspace.streams[(self.workspace.channel_key(channel), ts)]
            stream.stopped_at, stream.stopped_by = self.workspace.now(), by

    def status_history(self, channel: str, thread_ts: str) -> list[StatusUpdate]:
        """Every assistant.threads.setStatus in a thread, oldest first ("" clears; a bot reply clears too)."""
        with self._cond:
            key = self.workspace.channel_key(channel)
            return list(self.workspace.statuses.get((key, thread_ts), []))

    def current_status(self, channel: str, thread_ts: str) -> str | None:
        """The status shown in the thread now (None once cleared, replied to or two minutes old)."""
        with self._cond:
            key = self.workspace.channel_key(channel)
            update = self.workspace.current_status(key, thread_ts, STATUS_EXPIRES_AFTER)
            return update.status if update else None

    def uploaded_files(self, channel: str | None = None) -> list[Upload]:
        """Files announced with files.getUploadURLExternal, oldest first, with their bytes (`content`)
        once POSTed and where they were shared once completed; with `channel`, those shared there."""
        with self._cond:
            key = self.workspace.channel_key(channel) if channel else None
            found = [u for u in self.workspace.uploads.values() if key in (None, u.channel)]
            return copy.deepcopy(found)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes uploaded for a file (KeyError if unknown, ValueError if none arrived)."""
        with self._cond:
            content = self.workspace.uploads[file_id].content
        if content is None:
            raise ValueError(f"no bytes were uploaded for {file_id}")
        return content
