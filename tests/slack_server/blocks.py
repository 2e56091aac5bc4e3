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
ACTIONS_ELEMENTS = 25
CONTEXT_ACTIONS_ELEMENTS = 5
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
ACTION_ID = 255
URL = 3_000
MARKDOWN_TEXT = 12_000
TABLE_ROWS = 100
TABLE_CELLS = 20
TABLE_CELL_TYPES = ("raw_text", "raw_number", "rich_text")


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
    tables = [i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("type") == "table"]
    if len(tables) > 1:  # one table per message
        problems.append(f"only one table block is allowed per message [json-pointer:{pointer}/{tables[1]}]")
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
    elif kind == "actions":
        problems += _elements_problems(block, at, ACTIONS_ELEMENTS, None)
    elif kind == "context_actions":
        problems += _elements_problems(
            block, at, CONTEXT_ACTIONS_ELEMENTS, ("feedback_buttons", "icon_button")
        )
    elif kind == "markdown":
        problems += _length_problems(block.get("text"), MARKDOWN_TEXT, f"{at}/text", required=True)
    elif kind == "table":
        problems += _table_problems(block, at)
    return problems


def _elements_problems(block: dict[str, Any], at: str, most: int, kinds: tuple[str, ...] | None) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"must provide a non-empty array [json-pointer:{at}/elements]"]
    problems = []
    if len(elements) > most:
        problems.append(f"no more than {most} items allowed [json-pointer:{at}/elements]")
    for index, element in enumerate(elements):
        where = f"{at}/elements/{index}"
        kind = element.get("type") if isinstance(element, dict) else None
        if not isinstance(kind, str) or (kinds is not None and kind not in kinds):
            problems.append(
                f"must be one of {', '.join(kinds or ('a block element',))} [json-pointer:{where}/type]"
            )
            continue
        problems += _element_problems(element, where)
    return problems


def _element_problems(element: dict[str, Any], at: str) -> list[str]:
    problems = _length_problems(element.get("action_id"), ACTION_ID, f"{at}/action_id", required=False)
    if element["type"] == "button":
        problems += _plain_text_problems(element.get("text"), BUTTON_TEXT, f"{at}/text")
        problems += _length_problems(element.get("value"), BUTTON_VALUE, f"{at}/value", required=False)
        problems += _length_problems(element.get("url"), URL, f"{at}/url", required=False)
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"must be one of primary, danger [json-pointer:{at}/style]")
    elif element["type"] == "feedback_buttons":
        for side in ("positive_button", "negative_button"):
            button = element.get(side)
            if not isinstance(button, dict):
                problems.append(f"missing required field: {side} [json-pointer:{at}]")
                continue
            problems += _plain_text_problems(button.get("text"), BUTTON_TEXT, f"{at}/{side}/text")
            problems += _length_problems(
                button.get("value"), BUTTON_VALUE, f"{at}/{side}/value", required=True
            )
    elif element["type"] == "icon_button":
        problems += _plain_text_problems(element.get("text"), BUTTON_TEXT, f"{at}/text")
        if not element.get("icon"):
            problems.append(f"missing required field: icon [json-pointer:{at}]")
    return problems


def _table_problems(block: dict[str, Any], at: str) -> list[str]:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        return [f"must provide a non-empty array [json-pointer:{at}/rows]"]
    problems = []
    if len(rows) > TABLE_ROWS:
        problems.append(f"no more than {TABLE_ROWS} items allowed [json-pointer:{at}/rows]")
    for r, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            problems.append(f"must provide a non-empty array [json-pointer:{at}/rows/{r}]")
            continue
        if len(row) > TABLE_CELLS:
            problems.append(f"no more than {TABLE_CELLS} items allowed [json-pointer:{at}/rows/{r}]")
        for c, cell in enumerate(row):
            where = f"{at}/rows/{r}/{c}"
            kind = cell.get("type") if isinstance(cell, dict) else None
            if kind not in TABLE_CELL_TYPES:
                problems.append(f"must be one of {', '.join(TABLE_CELL_TYPES)} [json-pointer:{where}/type]")
            elif kind == "raw_text" and not isinstance(cell.get("text"), str):
                problems.append(f"missing required field: text [json-pointer:{where}]")
            elif kind == "rich_text" and not isinstance(cell.get("elements"), list):
                problems.append(f"missing required field: elements [json-pointer:{where}]")
    settings = block.get("column_settings")
    if isinstance(settings, list) and len(settings) > TABLE_CELLS:
        problems.append(f"no more than {TABLE_CELLS} items allowed [json-pointer:{at}/column_settings]")
    return problems


def _plain_text_problems(text: Any, limit: int, at: str) -> list[str]:
    if isinstance(text, dict) and text.get("type") != "plain_text":
        return [f"must be a plain_text object [json-pointer:{at}/type]"]
    return _text_problems(text, limit, at, required=True)


def _length_problems(value: Any, limit: int, at: str, *, required: bool) -> list[str]:
    if value is None:
        return [f"missing required field [json-pointer:{at}]"] if required else []
    if not isinstance(value, str) or (required and not value):
        return [f"must be a non-empty string [json-pointer:{at}]"]
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}]"]
    return []


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
