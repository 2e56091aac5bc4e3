"""Just enough of Slack's Web API, in-process, for `weekly-report console`.

A small HTTP server on 127.0.0.1 that the console's Bolt app is pointed at (SLACK_API_URL):
it answers the methods the app uses, keeps the one DM between the console user and the
bot, and prints what the bot posts as a terminal would show it. It is not a test double:
it is how the product runs without a workspace.

Streamed answers (chat.startStream / appendStream / stopStream) are printed as their text
arrives; a thread status (assistant.threads.setStatus) is one line; uploaded files
(files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal) are saved in a
chart folder named at start and shown as `[image: title — alt text] <path>`. Buttons cannot be
clicked in a terminal: they are shown as text.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TextIO
from urllib.parse import parse_qsl, urlsplit

from bot.channels.slack_dm.delivery import REPORT_EVENT
from bot.mrkdwn import SlackMessage
from bot.text import slack_as_text, table

TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID = "T0CONSOLE", "U0CONSOLEBOT", "B0CONSOLEBOT", "A0CONSOLE"
USER_ID, DM_CHANNEL = "U0CONSOLE", "D0CONSOLE"
MARKDOWN_TEXT = 12_000  # Slack's limit per streaming call
Params = dict[str, Any]


@dataclass
class _Upload:
    name: str
    length: int
    alt_txt: str | None
    content: bytes | None = None
    saved: Path | None = None


class ConsoleSlack:
    """The console's Slack: one user (`email`), one bot, their DM, printed to `out`."""

    def __init__(self, email: str, name: str, out: TextIO, charts_dir: Path | None = None) -> None:
        self.email, self.name, self.out = email, name, out
        # Created on the first upload, so a session without charts leaves nothing behind.
        self.charts_dir = charts_dir or Path(tempfile.gettempdir()) / (
            f"weekly-report-charts-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        )
        self._streams: dict[str, str] = {}  # ts -> text streamed so far, while streaming
        self._status: dict[str, str] = {}  # thread ts -> the status shown
        self._uploads: dict[str, _Upload] = {}
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
            "chat.startStream": self._start_stream,
            "chat.appendStream": self._append_stream,
            "chat.stopStream": self._stop_stream,
            "assistant.threads.setStatus": self._set_status,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
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
        body = blocks_as_text(text, blocks, indent + "  ") if blocks else _plain(text, indent + "  ")
        self._write(f"\n{indent}{heading}\n{body}\n")

    def charts_notice(self) -> str:
        """The line that names the chart folder, for the console to print on start."""
        return f"Charts are saved to {self.charts_dir}"

    def _write(self, text: str) -> None:
        with self._print_lock:
            self.out.write(text)
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
        p = _markdown_as_text(p)
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
        p = _markdown_as_text(p)
        channel = self._channel(p.get("channel"))
        if channel is None or not p.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        self.show("  ↳ in thread (updated):", p.get("text", ""), _json(p.get("blocks")), indent="  ")
        return {"ok": True, "channel": channel, "ts": p["ts"], "text": p.get("text", "")}

    def _post_ephemeral(self, p: Params) -> Params:
        self.show("(only you can see this)", p.get("text", ""), _json(p.get("blocks")))
        return {"ok": True, "message_ts": self.next_ts()}

    # -- streamed answers, thread status ------------------------------------------------

    def _start_stream(self, p: Params) -> Params:
        if self._channel(p.get("channel")) is None:
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        text = _streamed(p)
        if text is None:
            return {"ok": False, "error": "msg_too_long"}
        ts = self.next_ts()
        self._streams[ts] = text
        self._status.pop(str(p["thread_ts"]), None)  # a reply clears the thread's status
        self._write("\n    ↳ in thread:\n    " + _indented(text, "    "))
        return {"ok": True, "channel": DM_CHANNEL, "ts": ts}

    def _append_stream(self, p: Params) -> Params:
        ts, text = str(p.get("ts")), _streamed(p)
        if ts not in self._streams:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        if text is None:
            return {"ok": False, "error": "msg_too_long"}
        self._streams[ts] += text
        self._write(_indented(text, "    "))
        return {"ok": True, "channel": DM_CHANNEL, "ts": ts}

    def _stop_stream(self, p: Params) -> Params:
        ts, text = str(p.get("ts")), _streamed(p)
        if ts not in self._streams:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        if text is None:
            return {"ok": False, "error": "msg_too_long"}
        full = self._streams.pop(ts) + text
        blocks = _json(p.get("blocks"))
        shown = blocks_as_text("", blocks, "    ") if blocks else ""
        self._write(_indented(text, "    ") + "\n" + (shown + "\n" if shown else ""))
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": full, "ts": ts}
        return {"ok": True, "channel": DM_CHANNEL, "ts": ts, "message": message}

    def _set_status(self, p: Params) -> Params:
        if self._channel(p.get("channel_id")) is None:
            return {"ok": False, "error": "channel_not_found"}
        thread, status = str(p.get("thread_ts") or ""), str(p.get("status") or "")
        if not thread:
            return {"ok": False, "error": "invalid_thread_ts"}
        if status and self._status.get(thread) != status:
            loading = _json(p.get("loading_messages")) or []
            hint = f" ({', '.join(map(str, loading))})" if isinstance(loading, list) and loading else ""
            self._write(f"    ⋯ weekly-report {status}{hint}\n")
        if status:
            self._status[thread] = status
        else:
            self._status.pop(thread, None)
        return {"ok": True}

    # -- files -----------------------------------------------------------------------------

    def _upload_url(self, p: Params) -> Params:
        name = os.path.basename(str(p.get("filename") or "")).strip()
        try:
            length = int(p.get("length") or 0)
        except ValueError:
            length = 0
        if not name or length <= 0:
            return {"ok": False, "error": "missing_argument"}
        file_id = f"F0CONSOLE{secrets.token_hex(4).upper()}"
        self._uploads[file_id] = _Upload(name, length, p.get("alt_txt") or None)
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, bytes]:
        """The bytes POSTed to an upload URL: (HTTP status, answer)."""
        upload = self._uploads.get(file_id)
        if upload is None or upload.saved is not None:
            return 404, b"upload URL not found or already used"
        if len(data) != upload.length:
            return 400, f"length mismatch: announced {upload.length} bytes, got {len(data)}".encode()
        upload.content = data
        return 200, f"OK - {len(data)}".encode()

    def _complete_upload(self, p: Params) -> Params:
        items = _json(p.get("files"))
        if not isinstance(items, list) or not items:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [(self._uploads.get(str(i.get("id"))), i) for i in items if isinstance(i, dict)]
        if len(uploads) != len(items) or any(u is None or u.content is None or u.saved for u, _ in uploads):
            return {"ok": False, "error": "file_not_found"}
        if p.get("channel_id") and self._channel(p.get("channel_id")) is None:
            return {"ok": False, "error": "channel_not_found"}
        lines = [_plain(str(p["initial_comment"]), "    ")] if p.get("initial_comment") else []
        done = []
        for upload, item in uploads:
            assert upload is not None and upload.content is not None
            upload.saved = self._save(upload.name, upload.content)
            title = str(item.get("title") or upload.name)
            kind = "image" if upload.content.startswith(b"\x89PNG") else "file"
            alt = f" — {upload.alt_txt}" if upload.alt_txt else ""
            lines.append(f"    [{kind}: {title}{alt}] {upload.saved}")
            done.append({"id": item["id"], "title": title})
        self._write("\n    ↳ in thread:\n" + "\n".join(lines) + "\n")
        return {"ok": True, "files": done}

    def _save(self, name: str, content: bytes) -> Path:
        """Write a file into the chart folder without overwriting an earlier one of the same name."""
        self.charts_dir.mkdir(parents=True, exist_ok=True)
        stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
        for n in itertools.count(1):
            candidate = self.charts_dir / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
            try:
                with candidate.open("xb") as f:
                    f.write(content)
                return candidate
            except FileExistsError:
                continue
        raise AssertionError("unreachable")

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
            data = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path.startswith("/upload/"):  # a file's bytes: the upload URL is its own secret
                status, answer = slack.receive_upload(path.removeprefix("/upload/"), data)
                self._send(status, answer, "text/plain; charset=utf-8")
                return
            raw = data.decode()
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


def blocks_as_text(text: str, blocks: list[dict[str, Any]], indent: str) -> str:
    """A message's blocks as a terminal shows them; buttons, which cannot be clicked here, as text."""
    parts = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("header", "section", "context"):
            parts.append(slack_as_text(SlackMessage(text, [block]), indent))
        elif kind == "markdown":
            parts.append(_plain(str(block.get("text", "")), indent))
        elif kind == "table":
            rows = [[_cell_text(cell) for cell in row] for row in block.get("rows") or []]
            width = max((len(row) for row in rows), default=0)
            rows = [row + [""] * (width - len(row)) for row in rows]
            if rows:
                grid = "\n".join(line.rstrip() for line in table(rows[0], rows[1:]).splitlines())
                parts.append(_plain(grid, indent))
        elif kind == "actions":
            labels = [f"[{e['text']['text']}]" for e in block.get("elements", []) if e.get("text")]
            parts.append(f"{indent}{'  '.join(labels)}  (buttons: not clickable in the console)")
        elif kind == "context_actions":
            labels = []
            for e in block.get("elements", []):
                if e.get("type") == "feedback_buttons":
                    labels += [
                        f"[{e[side]['text']['text']}]" for side in ("positive_button", "negative_button")
                    ]
                elif e.get("text"):
                    labels.append(f"[{e['text']['text']}]")
            parts.append(f"{indent}{' '.join(labels)}  (feedback: not clickable in the console)")
        elif kind == "image":
            title = (block.get("title") or {}).get("text", "image")
            parts.append(
                f"{indent}[image: {title} — {block.get('alt_text', '')}] {block.get('image_url', '')}"
            )
    return "\n".join(part for part in parts if part)


def _cell_text(cell: dict[str, Any]) -> str:
    if cell.get("type") == "raw_text":
        return str(cell.get("text", ""))
    if cell.get("type") == "raw_number":
        return str(cell.get("number", cell.get("text", "")))
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                texts.append(str(node.get("text", "")))
            for child in node.get("elements") or []:
                walk(child)

    walk(cell)
    return "".join(texts)


def _markdown_as_text(p: Params) -> Params:
    """chat.postMessage / chat.update may carry standard Markdown as `markdown_text` instead of text."""
    return p | {"text": p["markdown_text"]} if p.get("markdown_text") and not p.get("text") else p


def _streamed(p: Params) -> str | None:
    """The markdown a streaming call carries (markdown_text and markdown_text chunks); None past the limit."""
    pieces = [str(p["markdown_text"])] if p.get("markdown_text") else []
    chunks = _json(p.get("chunks"))
    if isinstance(chunks, list):
        pieces += [
            str(c.get("text", "")) for c in chunks if isinstance(c, dict) and c.get("type") == "markdown_text"
        ]
    if any(len(piece) > MARKDOWN_TEXT for piece in pieces):
        return None
    return "".join(pieces)


def _indented(text: str, indent: str) -> str:
    return text.replace("\n", "\n" + indent)


def _plain(text: str, indent: str) -> str:
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(indent + line for line in text.splitlines())
