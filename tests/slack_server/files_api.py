"""File uploads the way Slack takes them since files.upload was retired (2025-11-12).

files.getUploadURLExternal announces a file (name, length, alt text) and hands out an upload
URL; the bytes are POSTed there (raw, or as a multipart `file` field); files.completeUploadExternal
shares the announced files as one message with a `files` array. Both methods are Tier 4 and need
`files:write`; their errors are the documented ones (docs.slack.dev/reference/methods/...).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import mimetypes
import secrets
import struct
import time
from typing import Any

from .blocks import check_message, problem_messages
from .records import ApiError, Upload, random_id
from .workspace import Workspace

UPLOAD_PATH = "/upload/v1/"
ALT_TXT = 1_000  # "longer than the limit of 1000 character" -> alt_txt_too_large
MAX_FILE = 1024**3  # Slack's 1 GB file limit
SNIPPET_TYPES = frozenset(
    {
        "text",
        "python",
        "sql",
        "json",
        "csv",
        "markdown",
        "javascript",
        "typescript",
        "shell",
        "yaml",
        "html",
        "xml",
    }
)
_PNG = b"\x89PNG\r\n\x1a\n"


def files_get_upload_url_external(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    filename = params.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise _missing("filename")
    length = _length(params.get("length"))
    alt_txt = params.get("alt_txt")
    if alt_txt is not None and len(str(alt_txt)) > ALT_TXT:
        raise ApiError("alt_txt_too_large")
    snippet_type = params.get("snippet_type") or None
    if snippet_type is not None and snippet_type not in SNIPPET_TYPES:
        raise ApiError("unknown_snippet_type")
    upload = Upload(
        id=random_id("F"),
        name=filename,
        length=length,
        alt_txt=str(alt_txt) if alt_txt else None,
        snippet_type=snippet_type,
        created=int(time.time()),
        ticket=secrets.token_urlsafe(24),
    )
    ws.uploads[upload.id] = upload
    return {"upload_url": f"{ws.base_url}{UPLOAD_PATH}{upload.ticket}", "file_id": upload.id}


def receive_upload(ws: Workspace, ticket: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """A POST of a file's bytes to its upload URL: (HTTP status, plain-text answer)."""
    upload = next((u for u in ws.uploads.values() if u.ticket == ticket), None)
    if upload is None or upload.completed:
        return 404, b"upload URL not found or already used"
    data = _multipart_file(content_type, body) if content_type.startswith("multipart/form-data") else body
    if data is None or len(data) != upload.length:
        got = "no file" if data is None else f"{len(data)} bytes"
        return 400, f"length mismatch: announced {upload.length} bytes, got {got}".encode()
    upload.content = data
    return 200, f"OK - {len(data)}".encode()


def files_complete_upload_external(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    items = _file_items(params.get("files"))
    uploads = []
    for item in items:
        upload = ws.uploads.get(str(item.get("id")))
        if upload is None or upload.completed or upload.content is None:
            raise ApiError("file_not_found")  # unknown, already completed, or its bytes never arrived
        uploads.append((upload, item.get("title") or upload.name))
    channels = _channels(ws, params)
    thread_ts = params.get("thread_ts") or None
    if thread_ts and len(channels) != 1:
        raise ApiError(
            "invalid_arguments", response_metadata=problem_messages(["thread_ts needs exactly one channel"])
        )
    comment = params.get("initial_comment") or ""
    blocks = None if comment else params.get("blocks")
    if blocks is not None:
        check_message("", blocks)
    for upload, title in uploads:
        upload.title, upload.completed = title, True
    for channel in channels:
        files = [file_object(ws, upload) for upload, _ in uploads]
        message = ws.post_as_bot(
            channel, text=comment, thread_ts=thread_ts, blocks=blocks, files=files, upload=True
        )
        for upload, _ in uploads:
            upload.channel, upload.message_ts, upload.thread_ts = channel, message["ts"], message["thread_ts"]
    return {"files": [{"id": upload.id, "title": upload.title} for upload, _ in uploads]}


def file_object(ws: Workspace, upload: Upload) -> dict[str, Any]:
    """A file as messages and files.* methods show it."""
    content = upload.content or b""
    mimetype = "image/png" if content.startswith(_PNG) else None
    mimetype = mimetype or mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
    filetype = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "binary"
    link = f"{ws.base_url}/files-pri/{ws.team_id}-{upload.id}/{upload.name}"
    shown: dict[str, Any] = {
        "id": upload.id,
        "created": upload.created,
        "timestamp": upload.created,
        "name": upload.name,
        "title": upload.title or upload.name,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": filetype.upper(),
        "user": ws.bot_user_id,
        "user_team": ws.team_id,
        "editable": False,
        "size": len(content),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": link,
        "url_private_download": link + "?download=1",
        "permalink": f"https://test-team.slack.com/files/{ws.bot_user_id}/{upload.id}/{upload.name}",
    }
    if upload.alt_txt:
        shown["alt_txt"] = upload.alt_txt
    if mimetype == "image/png" and len(content) >= 24:
        shown["original_w"], shown["original_h"] = struct.unpack(">II", content[16:24])
    return shown


def _length(value: Any) -> int:
    try:
        length = int(value)
    except (TypeError, ValueError) as exc:
        raise _missing("length") from exc
    if length == 0:
        raise ApiError("missing_argument")  # "typically only occurs when the length provided is 0"
    if length < 0:
        raise ApiError("invalid_arguments", response_metadata=problem_messages(["length must be positive"]))
    if length > MAX_FILE:
        raise ApiError("file_upload_size_restricted")
    return length


def _file_items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(i, dict) and i.get("id") for i in value)
    ):
        raise _missing("files")
    return value


def _channels(ws: Workspace, params: dict[str, Any]) -> list[str]:
    """Where to share: channel_id, or the comma-separated `channels`; none keeps the files private."""
    named = [params["channel_id"]] if params.get("channel_id") else []
    named += [c for c in str(params.get("channels") or "").split(",") if c]
    return [ws.member_channel(channel) for channel in dict.fromkeys(named)]


def _multipart_file(content_type: str, body: bytes) -> bytes | None:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def _missing(field: str) -> ApiError:
    return ApiError(
        "invalid_arguments", response_metadata=problem_messages([f"missing required field: {field}"])
    )
