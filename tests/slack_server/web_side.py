"""The Web API side of `SlackServer`: answering HTTP requests, recording calls, faults and limits."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from . import events
from .faults import TIERS, FaultRule, Hold, RateLimit, Refusal
from .files_api import UPLOAD_PATH, receive_upload
from .records import ApiError, Call
from .state import ServerState
from .web_api import flag, read_request

_ECHOED = ("chat.postMessage", "chat.update")


class WebApiSide(ServerState):
    """Web API calls as recorded, and the faults and limits applied to them."""

    # Web API records, faults and limits

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [call for call in self._calls if call.method == method]

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        every: int | None = None,
        times: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
        error: str | None = None,
        after: bool = False,
    ) -> FaultRule:
        """Answer calls to `method` with `status` (429 carries Retry-After, 1 s by default).

        `when` picks the calls considered; of those, every `every`-th fails, at most `times`
        in all; with neither, all of them fail. With `after`, the method runs first and only
        its answer is replaced: the work landed, the response was lost.
        """
        rule = FaultRule(method, status, retry_after, every, times, when, error, after)
        with self._cond:
            self._faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._holds.clear()

    def hold(
        self,
        method: str,
        until: Callable[[], bool],
        *,
        when: Callable[[dict[str, Any]], bool] | None = None,
        times: int | None = 1,
        timeout: float = 60.0,
    ) -> Hold:
        """Store and answer calls to `method` (those `when` picks, at most `times`) only once
        `until()` is true, or after `timeout` seconds: a post that lands late. Other calls go on."""
        rule = Hold(method, until, when, times, timeout)
        with self._cond:
            self._holds.append(rule)
        return rule

    def limit_rate(
        self, method: str, per_channel_per_second: int | None = 1, per_workspace_per_minute: int | None = None
    ) -> RateLimit:
        """Enforce Slack's limits on `method` with 429 + Retry-After (whole seconds until a slot frees)."""
        limit = RateLimit(method, per_channel_per_second, per_workspace_per_minute)
        with self._cond:
            self._limits[method] = limit
        return limit

    def limit_as_documented(self, *methods: str) -> dict[str, RateLimit]:
        """Enforce the per-minute tier Slack documents for each method (all of `TIERS` by default).

        Tier 2 is 20 calls a minute, Tier 3 50, Tier 4 100 (per workspace and app). Methods Slack
        marks "special" without a figure (chat.postMessage, setStatus) are left to limit_rate().
        """
        return {
            method: self.limit_rate(
                method, per_channel_per_second=per_second, per_workspace_per_minute=per_minute
            )
            for method, (per_second, per_minute) in TIERS.items()
            if not methods or method in methods
        }

    def _serve_http(
        self, verb: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | bytes]:
        url = urlsplit(target)
        if url.path.startswith("/api/"):
            return self._serve_api(url.path[len("/api/") :], url.query, headers, body)
        if url.path.startswith(UPLOAD_PATH) and verb == "POST":
            return self._serve_upload(url.path[len(UPLOAD_PATH) :], headers, body)
        if url.path in self._response_urls:
            return self._serve_response_url(url.path, headers, body)
        return 404, {}, {"ok": False, "error": "not_found"}

    def _serve_api(
        self, method: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        token: str | None = None
        refusal: Refusal | None = None
        try:
            params, token = read_request(headers, body, query)
        except ApiError as exc:
            params, refusal = {}, Refusal(200, exc.response())
        with self._cond:
            held = next((h for h in self._holds if refusal is None and h.holds(method, params)), None)
            if held is not None:  # waiting releases the lock: the server answers other calls meanwhile
                self._cond.wait_for(held.until, held.timeout)
        with self._cond:
            now, kind = self.workspace.now(), self._token_kind(token)
            before = self._echo_before(method, params)
            refusal = refusal or self._refusal(method, params, kind, now)
            if refusal is not None and refusal.after:
                self._call(method, params)  # done, but the caller never hears of it
            response = refusal.body if refusal else self._call(method, params)
            status = refusal.status if refusal else 200
            self._calls.append(Call(method, params, response, status, now, kind))
            echo = self._echo_event(method, response, before)
            self._cond.notify_all()
        if echo is not None:
            self._deliver_soon(echo)
        return status, refusal.headers() if refusal else {}, response

    def _token_kind(self, token: str | None) -> str:
        if not token:
            return "none"
        return {self.bot_token: "bot", self.app_token: "app"}.get(token, "invalid")

    def _refusal(self, method: str, params: dict[str, Any], kind: str, now: float) -> Refusal | None:
        entry = self._methods.get(method)
        if entry is None:
            return Refusal(200, {"ok": False, "error": "unknown_method"})
        if kind in ("none", "invalid"):
            return Refusal(200, {"ok": False, "error": "not_authed" if kind == "none" else "invalid_auth"})
        if kind != entry.token:
            return Refusal(200, {"ok": False, "error": "not_allowed_token_type"})
        for rule in self._faults:
            refusal = rule.refuse(method, params)
            if refusal is not None:
                return refusal
        limit = self._limits.get(method)
        named = params.get("channel", params.get("channel_id"))
        channel = self.workspace.channel_key(named) if named is not None else None
        return limit.refuse(channel, now) if limit else None

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"ok": True, **self._methods[method].fn(self.workspace, params)}
        except ApiError as exc:
            return exc.response()

    def _serve_upload(
        self, ticket: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The bytes of an announced file, POSTed to its upload URL (no token: the URL is the secret)."""
        with self._cond:
            status, answer = receive_upload(self.workspace, ticket, headers.get("content-type", ""), body)
            params = {"ticket": ticket[:6] + "…", "bytes": len(body)}
            response = {"ok": status == 200, "answer": answer.decode()}
            self._calls.append(Call("upload", params, response, status, self.workspace.now(), "upload_url"))
            self._cond.notify_all()
        return status, {}, answer

    def _serve_response_url(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        try:
            params, _ = read_request(headers, body, "")
        except ApiError as exc:
            return 400, {}, exc.response()
        with self._cond:
            try:
                self._respond(path, params)
                status, response = 200, {"ok": True}
            except ApiError as exc:
                status, response = 404, exc.response()
            self._calls.append(
                Call("response_url", params, response, status, self.workspace.now(), "response_url")
            )
            self._cond.notify_all()
        return status, {}, response

    def _respond(self, path: str, params: dict[str, Any]) -> None:
        """What a POST to a response_url does: a message, an ephemeral one, or (after a click) an edit."""
        channel, user, clicked = self._response_urls[path]
        text, blocks = params.get("text") or "", params.get("blocks")
        if clicked and flag(params, "delete_original"):
            self.workspace.delete(channel, clicked)
        elif clicked and flag(params, "replace_original"):
            message = self.workspace.find(channel, clicked)
            message.update(text=text, blocks=blocks)
            message["edited"] = {"user": self.workspace.bot_user_id, "ts": self.workspace.clock.next()}
        elif params.get("response_type") == "in_channel":
            thread_ts = params.get("thread_ts") or None
            self.workspace.post_as_bot(channel, text=text, blocks=blocks, thread_ts=thread_ts)
        else:
            self.workspace.ephemerals.append(
                {
                    "channel": channel,
                    "user": user,
                    "text": text,
                    "blocks": blocks,
                    "thread_ts": params.get("thread_ts"),
                }
            )

    # bot echoes

    def _echo_before(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if not (self.echo_bot_events and method == "chat.update"):
            return None
        try:
            return copy.deepcopy(self.workspace.find(str(params.get("channel")), params.get("ts")))
        except ApiError:
            return None

    def _echo_event(
        self, method: str, response: dict[str, Any], before: dict[str, Any] | None
    ) -> dict | None:
        if not (self.echo_bot_events and method in _ECHOED and response.get("ok")):
            return None
        if not str(response["channel"]).startswith("D"):
            return None
        message = self.workspace.find(response["channel"], response["ts"])
        if method == "chat.update":
            return events.bot_message_changed(self.workspace, before or message, message)
        return events.bot_message_echo(message)
