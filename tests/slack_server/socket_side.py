"""The Socket Mode side of `SlackServer`: connections, envelopes out, acks in."""

from __future__ import annotations

import copy
import json
import secrets
import time
import uuid
from typing import Any

from . import events
from .records import Ack, Envelope, random_id
from .state import ServerState, SocketState
from .workspace import Workspace


class SocketModeSide(ServerState):
    """Socket Mode connections, the envelopes sent over them and the acks that came back."""

    # connections

    def _issue_socket_url(self, ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        assert self._socket is not None
        return {"url": f"ws://127.0.0.1:{self._socket.port}/link/?ticket={ticket}&app_id={ws.app_id}"}

    def _accept_ticket(self, ticket: str) -> bool:
        with self._cond:
            if ticket not in self._tickets:
                return False
            self._tickets.discard(ticket)
            return True

    def _hello(self, connection: int) -> str:
        with self._cond:
            self._sockets[connection] = SocketState()
            live = sum(not s.closed for s in self._sockets.values())
        return json.dumps(
            {
                "type": "hello",
                "num_connections": live,
                "debug_info": {
                    "host": "applink-local-1",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.workspace.app_id},
            }
        )

    def _opened(self, connection: int) -> None:
        """A new connection is greeted: close the ones told to reconnect, as Slack does."""
        with self._cond:
            self._sockets[connection].ready = True
            replaced = [n for n, s in self._sockets.items() if s.draining and not s.closed]
            self._cond.notify_all()
        assert self._socket is not None
        for old in replaced:
            self._socket.close_soon(old)

    def _closed(self, connection: int) -> None:
        with self._cond:
            self._sockets[connection].closed = True
            self._cond.notify_all()

    def _current_socket(self) -> int | None:
        live = [n for n, s in self._sockets.items() if s.ready and not (s.draining or s.closed)]
        return max(live, default=None)

    @property
    def connections_opened(self) -> int:
        """Sockets accepted and greeted with `hello` (each through its own apps.connections.open ticket)."""
        with self._cond:
            return sum(s.ready for s in self._sockets.values())

    def wait_connected(self, timeout: float = 10) -> bool:
        """Wait until a socket client is connected and has had its `hello`."""
        return self.wait_for(self._locked(lambda: self._current_socket() is not None), timeout)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the connected client to reconnect; later envelopes go to its next connection."""
        self.wait_connected()
        with self._cond:
            connection = self._current_socket()
            assert connection is not None
            self._sockets[connection].draining = True
        frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local-1"}}
        assert self._socket is not None
        self._socket.send(connection, json.dumps(frame))

    def drop_connections(self, timeout: float = 10) -> None:
        """Close every live connection (code 1001) without a `disconnect` first, and wait until they are gone."""
        with self._cond:
            live = [n for n, s in self._sockets.items() if not s.closed]
        assert self._socket is not None
        for connection in live:
            self._socket.close_soon(connection)
        closed = self._locked(lambda: all(self._sockets[n].closed for n in live))
        self.wait_for(closed, timeout, what="the sockets closing")

    # envelopes and acks

    def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 10,
    ) -> str:
        """Send one envelope to the current connection (waiting up to `timeout` for one); returns its id."""
        body = _envelope(kind, payload, accepts_response_payload, retry_attempt, retry_reason)
        envelope_id = body["envelope_id"]
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if not self._cond.wait_for(
                    lambda: self._current_socket() is not None, deadline - time.monotonic()
                ):
                    raise TimeoutError(
                        f"no Socket Mode client connected within {timeout}s: is the app running?"
                    )
                connection = self._current_socket()
                assert connection is not None and self._socket is not None
                self._envelopes[envelope_id] = Envelope(body, time.monotonic(), connection)
            try:
                self._socket.send(connection, json.dumps(body))
                return envelope_id
            except ConnectionError:
                self._closed(connection)  # it went away under us: try the client's next connection

    def send_slash_command(
        self, command: str, text: str = "", *, user_id: str, channel_id: str | None = None
    ) -> str:
        """A slash command typed by `user_id` (by default in their DM with the app)."""
        path = f"/commands/{self.workspace.team_id}/{random_id('', 12)}/{secrets.token_hex(12)}"
        with self._cond:
            channel = channel_id or self.workspace.dm_channel(user_id)
            self._response_urls[path] = (channel, user_id, None)
            payload = events.slash_command(
                self.workspace,
                command,
                text,
                user_id=user_id,
                channel_id=channel,
                response_url=self._base_url() + path,
                token=self._verification_token,
            )
        return self.send_envelope("slash_commands", payload, accepts_response_payload=True)

    def send_event(self, event: dict[str, Any], event_id: str | None = None, retry_attempt: int = 0) -> str:
        """An events_api envelope for `event` (None-valued keys dropped, `event_ts` filled in)."""
        event = {key: value for key, value in event.items() if value is not None}
        event.setdefault("event_ts", event.get("ts") or self.workspace.clock.next())
        if event.get("type") == "message":
            event.setdefault("ts", event["event_ts"])
        payload = events.event_callback(
            self.workspace, event, event_id=event_id or random_id("Ev"), token=self._verification_token
        )
        reason = "timeout" if retry_attempt else ""
        return self.send_envelope("events_api", payload, retry_attempt=retry_attempt, retry_reason=reason)

    def send_dm(self, user_id: str, text: str, thread_ts: str | None = None) -> str:
        """`user_id` writes `text` in their DM with the app (a thread reply with `thread_ts`)."""
        with self._cond:
            channel = self.workspace.dm_channel(user_id)
            message = self._store_user_message(channel, user_id, text, thread_ts)
        return self.send_event(events.user_message(message))

    def send_app_mention(self, user_id: str, channel: str, text: str, thread_ts: str | None = None) -> str:
        """`user_id` mentions the app in `channel` (the mention is prefixed unless `text` has it)."""
        mention = f"<@{self.workspace.bot_user_id}>"
        text = text if mention in text else f"{mention} {text}"
        with self._cond:
            message = self._store_user_message(channel, user_id, text, thread_ts)
        return self.send_event(events.user_message(message, "app_mention"))

    def send_app_home_opened(self, user_id: str) -> str:
        """`user_id` opens the app's Home tab (the event carries the last published view, if any)."""
        with self._cond:
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user_id,
                "channel": self.workspace.dm_channel(user_id),
                "tab": "home",
                "event_ts": self.workspace.clock.next(),
            }
            views = self.workspace.views.get(user_id)
            if views:
                event["view"] = copy.deepcopy(views[-1])
        return self.send_event(event)

    def click(
        self, user_id: str, channel: str, message_ts: str, action_id: str, value: str | None = None
    ) -> str:
        """`user_id` clicks the button `action_id` in a message the app posted: a `block_actions`
        payload arrives in an `interactive` envelope, shaped as Slack shapes it (actions, block_id,
        message, container with thread_ts, user, channel, team, response_url). For
        feedback_buttons (in a context_actions block) `value` names the button clicked (its
        positive or negative value); a button sends its own value. Returns the envelope id."""
        path = f"/actions/{self.workspace.team_id}/{random_id('', 12)}/{secrets.token_hex(12)}"
        with self._cond:
            message = self.workspace.find(self.workspace.channel_key(channel), message_ts)
            action = events.clicked_action(message, action_id, value)
            self._response_urls[path] = (message["channel"], user_id, message["ts"])
            payload = events.block_actions(
                self.workspace,
                message,
                action,
                user_id=user_id,
                response_url=self._base_url() + path,
                token=self._verification_token,
            )
        return self.send_envelope("interactive", payload)

    def _store_user_message(self, channel: str, user_id: str, text: str, thread_ts: str | None) -> dict:
        return self.workspace.post(
            channel,
            user=user_id,
            text=text,
            thread_ts=thread_ts,
            blocks=events.rich_text(text),
            client_msg_id=events.new_client_msg_id(),
        )

    def envelope(self, envelope_id: str) -> dict[str, Any]:
        """The envelope as sent."""
        with self._cond:
            return copy.deepcopy(self._envelopes[envelope_id].body)

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        with self._cond:
            return [copy.deepcopy(e.body) for e in self._envelopes.values()]

    @property
    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks.values())

    @property
    def frames(self) -> list[dict[str, Any]]:
        """Every text frame clients sent (acks included), parsed."""
        with self._cond:
            return copy.deepcopy(self._frames)

    def wait_ack(self, envelope_id: str, timeout: float = 5) -> Ack:
        """The ack for an envelope; TimeoutError if none came within `timeout`."""
        acked = self._locked(lambda: envelope_id in self._acks)
        self.wait_for(acked, timeout, what=f"the ack of envelope {envelope_id}")
        with self._cond:
            return self._acks[envelope_id]

    def _received(self, connection: int, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            frame = {"unparsed": text}
        with self._cond:
            self._frames.append(frame)
            envelope = self._envelopes.get(str(frame.get("envelope_id")))
            if envelope is not None and frame["envelope_id"] not in self._acks:
                latency = time.monotonic() - envelope.sent_at
                self._acks[frame["envelope_id"]] = Ack(frame["envelope_id"], frame.get("payload"), latency)
            self._cond.notify_all()

    def _deliver_soon(self, event: dict[str, Any]) -> None:
        payload = events.event_callback(
            self.workspace, event, event_id=random_id("Ev"), token=self._verification_token
        )
        body = _envelope("events_api", payload, False, 0, "")
        with self._cond:
            connection = self._current_socket()
            if connection is None or self._socket is None:
                return
            self._envelopes[body["envelope_id"]] = Envelope(body, time.monotonic(), connection)
        self._socket.send_soon(connection, json.dumps(body))


def _envelope(kind: str, payload: dict[str, Any], accepts: bool, attempt: int, reason: str) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts,
        "retry_attempt": attempt,
        "retry_reason": reason,
    }
