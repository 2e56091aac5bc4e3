"""Slack's message and view limits, enforced the way the Web API reports them."""

from __future__ import annotations

from typing import Any

from .records import ApiError

MAX_TEXT = 40_000  # Slack truncates message text beyond this
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3_000
SECTION_FIELDS = 10
FIELD_TEXT = 2_000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
BLOCK_ID = 255


def check_message(text: Any, blocks: Any) -> None:
    """Refuse a message the way chat.postMessage / chat.update would."""
    if not text and not blocks:
        raise ApiError("no_text")
    if blocks is not None:
        problems = block_problems(blocks, MESSAGE_BLOCKS, "/blocks")
        if problems:
            raise ApiError("invalid_blocks", errors=problems, response_metadata=_messages(problems))


def check_view(view: Any) -> None:
    """Refuse a view the way views.publish would."""
    if not isinstance(view, dict) or view.get("type") != "home":
        raise ApiError("invalid_arguments", response_metadata=_messages(["view.type must be home"]))
    problems = block_problems(view.get("blocks"), VIEW_BLOCKS, "/view/blocks")
    if problems:
        raise ApiError("invalid_arguments", response_metadata=_messages(problems))


def block_problems(blocks: Any, max_blocks: int, pointer: str) -> list[str]:
    """Every limit the blocks break, as Slack words them (empty when they are fine)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    for index, block in enumerate(blocks):
        problems += _block_problems(block, f"{pointer}/{index}")
    return problems


def _block_problems(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"missing required field: type [json-pointer:{at}]"]
    problems = []
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        problems.append(f"must be less than {BLOCK_ID + 1} characters [json-pointer:{at}/block_id]")
    kind = block["type"]
    if kind == "header":
        problems += _text_problems(block.get("text"), HEADER_TEXT, f"{at}/text", required=True)
    elif kind == "section":
        problems += _section_problems(block, at)
    elif kind == "context" and len(block.get("elements") or []) > CONTEXT_ELEMENTS:
        problems.append(f"no more than {CONTEXT_ELEMENTS} items allowed [json-pointer:{at}/elements]")
    return problems


def _section_problems(block: dict[str, Any], at: str) -> list[str]:
    fields = block.get("fields")
    if "text" not in block and not fields:
        return [f"must provide either text or fields [json-pointer:{at}]"]
    problems = _text_problems(block.get("text"), SECTION_TEXT, f"{at}/text", required=False)
    if fields is not None:
        if len(fields) > SECTION_FIELDS:
            problems.append(f"no more than {SECTION_FIELDS} items allowed [json-pointer:{at}/fields]")
        for index, item in enumerate(fields):
            problems += _text_problems(item, FIELD_TEXT, f"{at}/fields/{index}", required=True)
    return problems


def _text_problems(text: Any, limit: int, at: str, *, required: bool) -> list[str]:
    if text is None:
        return [f"missing required field: text [json-pointer:{at}]"] if required else []
    value = text.get("text") if isinstance(text, dict) else None
    if not isinstance(value, str) or not value:
        return [f"must be a text object with non-empty text [json-pointer:{at}]"]
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}/text]"]
    return []


def problem_messages(problems: list[str]) -> dict[str, list[str]]:
    """The `response_metadata` Slack attaches to a refusal it can explain."""
    return _messages(problems)


def _messages(problems: list[str]) -> dict[str, list[str]]:
    return {"messages": [f"[ERROR] {problem}" for problem in problems]}
