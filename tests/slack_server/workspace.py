"""The workspace the local Slack server pretends to be: users, DM channels, messages, views.

Not thread-safe by itself: `SlackServer` holds its lock around every use.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from .blocks import MAX_TEXT
from .records import ApiError, StatusUpdate, Stream, TsClock, Upload

_PUBLIC_KEYS = (
    "type", "subtype", "user", "bot_id", "app_id", "text", "blocks", "ts", "thread_ts", "team", "files", "upload",
)  # fmt: skip
_THREAD_KEYS = ("reply_count", "reply_users_count", "reply_users", "latest_reply", "parent_user_id", "edited")


class Workspace:
    """Users, the bot's DM channels and every message currently posted."""

    def __init__(
        self,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.users: dict[str, dict[str, Any]] = {}
        self.views: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.clock = TsClock()
        self.now = now  # seconds, monotonic: when calls arrive, statuses expire, appends land
        self.streams: dict[tuple[str, str], Stream] = {}  # (channel, ts) -> stream
        self.statuses: dict[tuple[str, str], list[StatusUpdate]] = {}  # (channel, thread root) -> history
        self.uploads: dict[str, Upload] = {}  # file id -> upload
        self.outside: set[str] = set()  # channels the bot is not a member of
        self.base_url = ""  # where the server listens, for upload URLs and file links
        self._dms: dict[str, str] = {}  # user id -> D channel
        self._channels: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message
        self.add_user(bot_user_id, email=None, name="weekly-report", is_bot=True)

    # people and channels

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None,
        name: str,
        tz: str = "America/New_York",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        username = email.split("@")[0] if email else name.lower().replace(" ", "")
        profile = {
            "real_name": name,
            "display_name": name,
            "real_name_normalized": name,
            "team": self.team_id,
        }
        if email:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": username,
            "real_name": name,
            "deleted": False,
            "is_bot": is_bot,
            "is_admin": False,
            "tz": tz,
            "profile": profile,
        }
        self.users[user_id] = user
        return user

    def user(self, user_id: Any) -> dict[str, Any]:
        if user_id not in self.users:
            raise ApiError("user_not_found")
        return self.users[user_id]

    def user_by_email(self, email: Any) -> dict[str, Any]:
        for user in self.users.values():
            if email and user["profile"].get("email", "").lower() == str(email).lower():
                return user
        raise ApiError("users_not_found")

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel with a user, created on first use."""
        return self._dms.setdefault(user_id, "D" + user_id[1:])

    def dm_user(self, channel: str) -> str | None:
        return next((user for user, dm in self._dms.items() if dm == channel), None)

    def channel(self, channel: Any, *, user_ids: bool = True) -> str:
        """A channel id a method may write to; a user id means the bot's DM with that user."""
        name = str(channel or "")
        if user_ids and name[:1] in ("U", "W") and name in self.users:
            return self.dm_channel(name)
        if name[:1] in ("C", "G") and len(name) > 1:
            return name
        if name[:1] == "D" and self.dm_user(name) is not None:
            return name
        raise ApiError("channel_not_found")

    def member_channel(self, channel: Any, *, user_ids: bool = True) -> str:
        """`channel()` for methods that need the bot in the channel: not_in_channel otherwise."""
        name = self.channel(channel, user_ids=user_ids)
        if name in self.outside:
            raise ApiError("not_in_channel")
        return name

    def channel_key(self, channel: Any) -> str:
        """The channel a call writes to, for rate limiting; never refuses."""
        try:
            return self.channel(channel)
        except ApiError:
            return str(channel)

    # messages

    def post(
        self, channel: str, *, user: str, text: str, thread_ts: str | None = None, **fields: Any
    ) -> dict:
        """Store a new message (a thread reply when `thread_ts` is set) and return it."""
        ts = self.clock.next()
        parent = self._channels.get(channel, {}).get(thread_ts or "")
        if parent is not None:
            thread_ts = parent.get("thread_ts") or parent["ts"]
            self._count_reply(self._channels[channel][thread_ts], user, ts)
        message = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "thread_ts": thread_ts,
            "text": (text or "")[:MAX_TEXT],
            "user": user,
            "bot_id": None,
            "team": self.team_id,
            "blocks": None,
            "metadata": None,
            **fields,
        }
        if parent is not None:
            message["parent_user_id"] = parent["user"]
        self._channels.setdefault(channel, {})[ts] = message
        if thread_ts and user == self.bot_user_id:
            self._reply_clears_status(channel, thread_ts)
        return message

    # assistant thread status

    def set_status(
        self, channel: str, thread_ts: str, status: str, loading_messages: tuple[str, ...]
    ) -> None:
        history = self.statuses.setdefault((channel, thread_ts), [])
        history.append(StatusUpdate(channel, thread_ts, status, loading_messages, self.now()))

    def current_status(self, channel: str, thread_ts: str, expires_after: float) -> StatusUpdate | None:
        """The status a person sees in the thread now: the latest one, unless cleared or expired."""
        history = self.statuses.get((channel, thread_ts))
        if not history or not history[-1].status or self.now() - history[-1].at >= expires_after:
            return None
        return history[-1]

    def _reply_clears_status(self, channel: str, thread_ts: str) -> None:
        """Slack removes the thread's status when the app replies in it."""
        history = self.statuses.get((channel, thread_ts))
        if history and history[-1].status:
            history.append(StatusUpdate(channel, thread_ts, "", (), self.now(), cleared_by="reply"))

    def post_as_bot(self, channel: str, *, text: str, thread_ts: str | None = None, **fields: Any) -> dict:
        return self.post(
            channel,
            user=self.bot_user_id,
            text=text,
            thread_ts=thread_ts,
            bot_id=self.bot_id,
            app_id=self.app_id,
            **fields,
        )

    def find(self, channel: str, ts: Any) -> dict[str, Any]:
        message = self._channels.get(channel, {}).get(str(ts))
        if message is None:
            raise ApiError("message_not_found")
        return message

    def delete(self, channel: str, ts: Any) -> None:
        self.find(channel, ts)
        del self._channels[channel][str(ts)]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Copies of stored messages in one channel (or all), oldest first."""
        if channel is None:
            found = [m for msgs in self._channels.values() for m in msgs.values()]
        else:
            found = list(self._channels.get(self.channel_key(channel), {}).values())
        return copy.deepcopy(sorted(found, key=lambda m: _ts_key(m["ts"])))

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages and thread broadcasts, newest first, as conversations.history lists them."""
        stored = self._channels.get(channel, {}).values()
        top = [m for m in stored if m["thread_ts"] in (None, m["ts"]) or m.get("reply_broadcast")]
        return sorted(top, key=lambda m: _ts_key(m["ts"]), reverse=True)

    def thread(self, channel: str, ts: Any) -> list[dict[str, Any]]:
        """A thread's parent then its replies, oldest first, as conversations.replies lists them."""
        parent = self._channels.get(channel, {}).get(str(ts))
        if parent is None:
            raise ApiError("thread_not_found")
        root = parent.get("thread_ts") or parent["ts"]
        stored = self._channels[channel].values()
        return sorted(
            (m for m in stored if m["ts"] == root or m["thread_ts"] == root), key=lambda m: _ts_key(m["ts"])
        )

    def _count_reply(self, parent: dict[str, Any], user: str, ts: str) -> None:
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        users = parent.setdefault("reply_users", [])
        if user not in users:
            users.append(user)
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = ts


def public(message: dict[str, Any], *, metadata: bool = True) -> dict[str, Any]:
    """A stored message as the Web API shows it: no `channel`, no empty fields."""
    keys = (*_PUBLIC_KEYS, *_THREAD_KEYS, "reactions", *(("metadata",) if metadata else ()))
    return copy.deepcopy({key: message[key] for key in keys if message.get(key) is not None})


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
