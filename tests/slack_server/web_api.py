"""Web API requests: reading them the way Slack does, and the methods the bot uses.

Each method takes the workspace and the request's parameters and returns the response's
fields besides `"ok": true`, or raises `ApiError`.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .assistant_api import (
    MARKDOWN_TEXT,
    assistant_threads_set_status,
    chat_append_stream,
    chat_start_stream,
    chat_stop_stream,
)
from .blocks import check_message, check_view
from .files_api import files_complete_upload_external, files_get_upload_url_external
from .records import ApiError, random_id
from .workspace import Workspace, public

_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")

MethodFn = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Method:
    """A Web API method and the kind of token it takes ("bot" or "app")."""

    fn: MethodFn
    token: str = "bot"


def read_request(headers: Mapping[str, str], body: bytes, query: str) -> tuple[dict[str, Any], str | None]:
    """The parameters and token of a request sent as a query, form, multipart or JSON body.

    `headers` have lower-case names.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            params.update(json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            raise ApiError("invalid_json") from exc
    elif content_type.startswith("multipart/form-data"):
        params.update(_multipart(content_type, body))
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    authorization = headers.get("authorization", "")
    body_token = params.pop("token", None)
    token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else body_token
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except ValueError as exc:
                raise ApiError(f"invalid_{key}_format" if key == "blocks" else "invalid_arguments") from exc
    return params, token


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode("utf-8")
    return fields


def flag(params: dict[str, Any], key: str) -> bool:
    return params.get(key) in (True, 1, "1", "true", "True")


def auth_test(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://test-team.slack.com/",
        "team": "Test Team",
        "user": ws.users[ws.bot_user_id]["name"],
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.member_channel(params.get("channel"))
    params = _markdown_as_text(params)
    check_message(params.get("text"), params.get("blocks"))
    message = ws.post_as_bot(
        channel,
        text=params.get("text") or "",
        thread_ts=params.get("thread_ts") or None,
        blocks=params.get("blocks"),
        metadata=params.get("metadata"),
        reply_broadcast=flag(params, "reply_broadcast"),
    )
    return {"channel": channel, "ts": message["ts"], "message": public(message)}


def chat_update(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.channel(params.get("channel"), user_ids=False)
    message = ws.find(channel, params.get("ts"))
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("cant_update_message")
    params = _markdown_as_text(params)
    check_message(params.get("text") or message["text"], params.get("blocks", message["blocks"]))
    for key in ("text", "blocks", "metadata"):
        if key in params:
            message[key] = params[key]
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.clock.next()}
    return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": public(message)}


def _markdown_as_text(params: dict[str, Any]) -> dict[str, Any]:
    """`markdown_text` (standard Markdown, <= 12,000 chars, alone) stands for the message's text."""
    markdown = params.get("markdown_text")
    if markdown is None:
        return params
    if params.get("text") or params.get("blocks"):
        raise ApiError("markdown_text_conflict")
    if len(str(markdown)) > MARKDOWN_TEXT:
        raise ApiError("msg_too_long")
    return {key: value for key, value in params.items() if key != "markdown_text"} | {
        "text": str(markdown),
        "blocks": None,
    }


def chat_delete(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.channel(params.get("channel"), user_ids=False)
    if ws.find(channel, params.get("ts")).get("bot_id") != ws.bot_id:
        raise ApiError("cant_delete_message")
    ws.delete(channel, params.get("ts"))
    return {"channel": channel, "ts": params.get("ts")}


def chat_post_ephemeral(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.channel(params.get("channel"))
    user = ws.user(params.get("user"))["id"]
    check_message(params.get("text"), params.get("blocks"))
    ts = ws.clock.next()
    fields = ("text", "blocks", "thread_ts")
    ws.ephemerals.append({"channel": channel, "user": user, "ts": ts} | {k: params.get(k) for k in fields})
    return {"message_ts": ts}


def conversations_open(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("channel"):
        channel = ws.channel(params["channel"], user_ids=False)
        return {"channel": {"id": channel}}
    users = [u for u in str(params.get("users") or "").split(",") if u]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 8:
        raise ApiError("too_many_users")
    for user in users:
        ws.user(user)
    if len(users) > 1:
        return {"channel": {"id": "G" + "".join(sorted(u[1:4] for u in users))}}
    channel = ws.dm_channel(users[0])
    if flag(params, "return_im"):
        return {
            "channel": {"id": channel, "is_im": True, "user": users[0], "is_open": True},
            "already_open": True,
        }
    return {"channel": {"id": channel}}


def conversations_history(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    found = ws.history(ws.channel(params.get("channel"), user_ids=False))
    oldest, latest = params.get("oldest"), params.get("latest")
    inclusive = flag(params, "inclusive")
    if oldest:
        found = [m for m in found if float(m["ts"]) > float(oldest) or (inclusive and m["ts"] == oldest)]
    if latest:
        found = [m for m in found if float(m["ts"]) < float(latest) or (inclusive and m["ts"] == latest)]
    return _page(found, params, default_limit=100) | {"pin_count": 0}


def conversations_replies(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    found = ws.thread(ws.channel(params.get("channel"), user_ids=False), params.get("ts"))
    return _page(found, params, default_limit=1000)


def _page(found: list[dict[str, Any]], params: dict[str, Any], *, default_limit: int) -> dict[str, Any]:
    start = (
        int(base64.urlsafe_b64decode(params["cursor"]).decode()[len("offset:") :])
        if params.get("cursor")
        else 0
    )
    limit = int(params.get("limit") or default_limit)
    page = found[start : start + limit]
    more = start + limit < len(found)
    cursor = base64.urlsafe_b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    metadata = flag(params, "include_all_metadata")
    return {
        "messages": [public(m, metadata=metadata) for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": cursor},
    }


def users_info(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    return {"user": ws.user(params.get("user"))}


def users_lookup_by_email(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    return {"user": ws.user_by_email(params.get("email"))}


def views_publish(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    user = ws.user(params.get("user_id"))["id"]
    view = params.get("view")
    check_view(view)
    assert isinstance(view, dict)
    published = ws.views.setdefault(user, [])
    if params.get("hash") and published and params["hash"] != published[-1]["hash"]:
        raise ApiError("hash_conflict")
    view = dict(view) | {
        "id": random_id("V"),
        "team_id": ws.team_id,
        "app_id": ws.app_id,
        "hash": random_id(""),
    }
    published.append(view)
    return {"view": view}


def reactions_add(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    message = ws.find(ws.channel(params.get("channel"), user_ids=False), params.get("timestamp"))
    name = str(params.get("name") or "").strip(":")
    if not name:
        raise ApiError("invalid_name")
    reactions = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reaction = {"name": name, "users": [], "count": 0}
        reactions.append(reaction)
    if ws.bot_user_id in reaction["users"]:
        raise ApiError("already_reacted")
    reaction["users"].append(ws.bot_user_id)
    reaction["count"] += 1
    return {}


METHODS: dict[str, Method] = {
    "auth.test": Method(auth_test),
    "chat.postMessage": Method(chat_post_message),
    "chat.update": Method(chat_update),
    "chat.delete": Method(chat_delete),
    "chat.postEphemeral": Method(chat_post_ephemeral),
    "conversations.open": Method(conversations_open),
    "conversations.history": Method(conversations_history),
    "conversations.replies": Method(conversations_replies),
    "users.info": Method(users_info),
    "users.lookupByEmail": Method(users_lookup_by_email),
    "views.publish": Method(views_publish),
    "reactions.add": Method(reactions_add),
    "chat.startStream": Method(chat_start_stream),
    "chat.appendStream": Method(chat_append_stream),
    "chat.stopStream": Method(chat_stop_stream),
    "assistant.threads.setStatus": Method(assistant_threads_set_status),
    "files.getUploadURLExternal": Method(files_get_upload_url_external),
    "files.completeUploadExternal": Method(files_complete_upload_external),
}
