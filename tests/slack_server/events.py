"""Payloads Slack delivers over Socket Mode, shaped like the real ones."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from .workspace import Workspace, public


def slash_command(
    ws: Workspace, command: str, text: str, *, user_id: str, channel_id: str, response_url: str, token: str
) -> dict[str, str]:
    """A slash_commands envelope payload (every value a string, as the form Slack forwards)."""
    user = ws.users.get(user_id)
    return {
        "token": token,
        "team_id": ws.team_id,
        "team_domain": "test-team",
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "general",
        "user_id": user_id,
        "user_name": user["name"] if user else user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
    }


def event_callback(ws: Workspace, event: dict[str, Any], *, event_id: str, token: str) -> dict[str, Any]:
    """An events_api envelope payload wrapping one event."""
    return {
        "token": token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }


def user_message(message: dict[str, Any], event_type: str = "message") -> dict[str, Any]:
    """The event for a message a person wrote (`message` in a DM, or `app_mention`)."""
    event = public(message, metadata=False) | {"type": event_type, "channel": message["channel"]}
    event["event_ts"] = message["ts"]
    if event_type == "message" and message["channel"].startswith("D"):
        event["channel_type"] = "im"
    for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
        event.pop(key, None)
    return event | {"client_msg_id": message["client_msg_id"]}


def rich_text(text: str) -> list[dict[str, Any]]:
    """The blocks Slack's clients attach to what a person types."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": secrets.token_hex(3), "elements": [section]}]


def new_client_msg_id() -> str:
    return str(uuid.uuid4())


def bot_message_echo(message: dict[str, Any]) -> dict[str, Any]:
    """The `message.im` event Slack also sends the app for its own DM post."""
    event = public(message, metadata=False) | {"channel": message["channel"], "channel_type": "im"}
    return event | {"event_ts": message["ts"]}


def bot_message_changed(ws: Workspace, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The `message_changed` event Slack sends the app when its own DM post is updated."""
    ts = ws.clock.next()
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": public(after, metadata=False),
        "previous_message": public(before, metadata=False),
        "channel": after["channel"],
        "channel_type": "im",
        "ts": ts,
        "event_ts": ts,
    }


def block_actions(
    ws: Workspace,
    message: dict[str, Any],
    action: dict[str, Any],
    *,
    user_id: str,
    response_url: str,
    token: str,
) -> dict[str, Any]:
    """The `interactive` envelope payload of a click on an element of a message the app posted."""
    user = ws.users.get(user_id) or {"name": user_id.lower()}
    channel = message["channel"]
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user["name"], "name": user["name"], "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": token,
        "container": container,
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
        "team": {"id": ws.team_id, "domain": "test-team"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage" if channel.startswith("D") else "general"},
        "message": public(message, metadata=False) | {"type": "message"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action | {"action_ts": f"{time.time():.6f}"}],
    }


def clicked_action(message: dict[str, Any], action_id: str, value: str | None) -> dict[str, Any]:
    """The `actions[0]` of a click on the button (or feedback button) `action_id` in `message`.

    A button's own value is sent; for feedback_buttons `value` picks the positive or negative
    one. LookupError when the message has no such element or value.
    """
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") != action_id:
                continue
            found = {"action_id": action_id, "block_id": block.get("block_id", ""), "type": element["type"]}
            if element["type"] == "feedback_buttons":
                sides = [element["positive_button"], element["negative_button"]]
                button = next((b for b in sides if b["value"] == value), None)
                if button is None:
                    raise LookupError(f"{action_id} has no button with value {value!r}")
                return found | {"value": button["value"], "text": button["text"]}
            if element["type"] in ("button", "icon_button"):
                if value is not None and value != element.get("value"):
                    raise LookupError(f"button {action_id} has value {element.get('value')!r}, not {value!r}")
                found |= {"text": element["text"]}
                for key in ("value", "style"):
                    if key in element:
                        found[key] = element[key]
                return found
    raise LookupError(f"no button {action_id!r} in message {message['ts']}")
