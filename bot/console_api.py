"""Just enough of Slack's Web API, in-process, for `weekly-report console`.

A small HTTP server on 127.0.0.1 that the console's Bolt app is pointed at (SLACK_API_URL):
it answers the methods the app uses, keeps the one DM between the console user and the
bot, and prints what the bot posts as a terminal would show it. It is not a test double:
it is how the product runs without a workspace.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TextIO
from urllib.parse import parse_qsl, urlsplit

from bot.channels.slack_dm.delivery import REPORT_EVENT
from bot.mrkdwn import SlackMessage
from bot.text import slack_as_text

TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID = "T0CONSOLE", "U0CONSOLEBOT", "B0CONSOLEBOT", "A0CONSOLE"
USER_ID, DM_CHANNEL = "U0CONSOLE", "D0CONSOLE"
Params = dict[str, Any]


class ConsoleSlack:
    """The console's Slack: one user (`email`), one bot, their DM, printed to `out`."""

    def __init__(self, email: str, name: str, out: TextIO) -> None:
        self.email, self.name, self.out = email, name, out
        self.token = f"xoxb-console-{secrets.token_hex(8)}"  # accepted here only
        self.last_report_ts: str | None = None
        self._print_lock = threading.Lock()
        self._clock = itertools.count(int(time.time() * 1_000_000))
        self._ts_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="console-slack", daemon=True)
        self.methods: dict[str, Callable[[Params], Params]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.open": self._open,
            "users.info": self._users_info,
            "users.lookupByEmail": self._lookup_by_email,
            "views.publish": self._views_publish,
        }

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self) -> str:
        return f"{self.base_url}/respond/{secrets.token_hex(6)}"

    def next_ts(self) -> str:
        """A message ts, strictly increasing like Slack's."""
        with self._ts_lock:
            micros = next(self._clock)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def show(
        self, heading: str, text: str, blocks: list[dict[str, Any]] | None = None, indent: str = ""
    ) -> None:
        body = (
            slack_as_text(SlackMessage(text, blocks), indent + "  ")
            if blocks
            else _plain(text, indent + "  ")
        )
        with self._print_lock:
            self.out.write(f"\n{indent}{heading}\n{body}\n")
            self.out.flush()

    # -- Web API methods ------------------------------------------------------------------

    def call(self, method: str, params: Params) -> Params:
        handler = self.methods.get(method)
        return handler(params) if handler else {"ok": False, "error": "unknown_method"}

    def _auth_test(self, _: Params) -> Params:
        return {
            "ok": True, "url": "https://console.invalid/", "team": "console", "user": "weekly-report",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
        }  # fmt: skip

    def _post_message(self, p: Params) -> Params:
        channel = self._channel(p.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts, thread_ts = self.next_ts(), p.get("thread_ts") or None
        blocks = _json(p.get("blocks"))
        metadata = _json(p.get("metadata")) or {}
        if metadata.get("event_type") == REPORT_EVENT and not thread_ts:
            self.last_report_ts = ts
        if thread_ts:
            self.show("  ↳ in thread:", p.get("text", ""), blocks, indent="  ")
        else:
            self.show("weekly-report:", p.get("text", ""), blocks)
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": p.get("text", ""),
            "ts": ts,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, p: Params) -> Params:
        channel = self._channel(p.get("channel"))
        if channel is None or not p.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        self.show("  ↳ in thread (updated):", p.get("text", ""), _json(p.get("blocks")), indent="  ")
        return {"ok": True, "channel": channel, "ts": p["ts"], "text": p.get("text", "")}

    def _post_ephemeral(self, p: Params) -> Params:
        self.show("(only you can see this)", p.get("text", ""), _json(p.get("blocks")))
        return {"ok": True, "message_ts": self.next_ts()}

    def respond(self, payload: Params) -> None:
        """A POST to a response_url: what a slash command says to the person afterwards."""
        self.show("(only you can see this)", str(payload.get("text", "")), _json(payload.get("blocks")))

    def _open(self, p: Params) -> Params:
        users = str(p.get("users", ""))
        if users != USER_ID:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": DM_CHANNEL, "is_im": True, "user": USER_ID}}

    def _users_info(self, p: Params) -> Params:
        if p.get("user") != USER_ID:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user()}

    def _lookup_by_email(self, p: Params) -> Params:
        if str(p.get("email", "")).lower() != self.email.lower():
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": self._user()}

    def _views_publish(self, p: Params) -> Params:
        view = _json(p.get("view")) or {}
        self.show("App Home:", "", view.get("blocks") or [])
        return {"ok": True, "view": {"id": "V0CONSOLE", **view}}

    def _user(self) -> Params:
        profile = {"email": self.email, "real_name": self.name, "display_name": self.name}
        return {
            "id": USER_ID,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.name,
            "profile": profile,
        }

    def _channel(self, channel: object) -> str | None:
        return DM_CHANNEL if channel in (DM_CHANNEL, USER_ID) else None


def _handler(slack: ConsoleSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(dict(parse_qsl(urlsplit(self.path).query)))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            if "json" in (self.headers.get("Content-Type") or ""):
                params = json.loads(raw or "{}")
            else:
                params = dict(parse_qsl(raw))
            params.update(parse_qsl(urlsplit(self.path).query))
            self._answer(params)

        def _answer(self, params: Params) -> None:
            path = urlsplit(self.path).path
            if path.startswith("/respond/"):
                slack.respond(params)
                self._send(200, b"ok", "text/plain")
                return
            if not path.startswith("/api/"):
                self._send(404, b"not found", "text/plain")
                return
            token = params.pop("token", None) or self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token != slack.token:
                body: Params = {"ok": False, "error": "invalid_auth"}
            else:
                body = slack.call(path.removeprefix("/api/"), params)
            self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the console prints messages, not requests."""

    return Handler


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _plain(text: str, indent: str) -> str:
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(indent + line for line in text.splitlines())
