"""manifest.yml: valid by Slack's own schema, and declaring what the app registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.slack import COMMANDS, EVENTS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).parent / "fixtures" / "slack-manifest.schema.json"  # Slack's app manifest schema


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest())]
    assert errors == []


def test_a_broken_manifest_is_caught_by_the_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "weekly-report"  # no leading slash
    del broken["display_information"]["name"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert len(list(validator.iter_errors(broken))) == 2


def test_slash_commands_are_the_ones_the_app_registers() -> None:
    commands = manifest()["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(COMMANDS)
    assert commands[0]["usage_hint"] == "CUST_12345" and commands[0]["description"]


def test_subscribed_events_cover_the_events_the_app_listens_to() -> None:
    subscribed = {name.split(".")[0] for name in manifest()["settings"]["event_subscriptions"]["bot_events"]}
    assert set(EVENTS) <= subscribed
    assert set(manifest()["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.im", "app_mention", "app_home_opened",
    }  # fmt: skip


def test_socket_mode_scopes_and_app_home() -> None:
    m = manifest()
    assert m["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in m["settings"]["event_subscriptions"]
    assert set(m["oauth_config"]["scopes"]["bot"]) == {
        "commands", "chat:write", "im:history", "im:read", "im:write",
        "app_mentions:read", "users:read", "users:read.email",
        "channels:history", "groups:history",  # the rollup/alert channels' resume check
        "files:write",  # chart uploads (files_upload_v2); streaming and setStatus need only chat:write
    }  # fmt: skip
    home = m["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_read_only_enabled"] is False


def test_interactivity_is_on_over_socket_mode_without_a_request_url() -> None:
    """Feedback and suggested-question buttons reach the app as block_actions over the socket."""
    interactivity = manifest()["settings"]["interactivity"]
    assert interactivity == {"is_enabled": True}
    assert (
        "assistant_view" not in manifest()["features"]
    )  # no setSuggestedPrompts/setTitle: no assistant:write
