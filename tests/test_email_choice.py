"""`/weekly-report email on|off` (also as DM text): each CSM changes only their own choice,
confirmed in one clear message, shown in App Home and in help; dispatched as Slack sends it
to the app, against the local Slack server."""

from __future__ import annotations

import dataclasses
import json

from bot.slack.requests import EmailChoice, Help, parse
from core import Preferences
from tests import test_bot_dispatch as dispatch
from tests.test_bot_dispatch import ADMIN, MICHAEL, OUTSIDER, SARAH, Bot

# The dispatch tests' fixtures: the app under test against the local Slack server.
slack, responses, services, bot = dispatch.slack, dispatch.responses, dispatch.services, dispatch.bot


def preferences(bot: Bot) -> Preferences:
    return Preferences(bot.services.engine.warehouse, bot.services.settings.current_date)


def home_of(bot: Bot, user_id: str) -> str:
    published = len(bot.slack.views_published.get(user_id, []))
    bot.event(
        {"type": "app_home_opened", "user": user_id, "channel": bot.slack.dm_channel(user_id), "tab": "home"}
    )
    bot.settle(lambda: len(bot.slack.views_published.get(user_id, [])) > published)
    return json.dumps(bot.slack.views_published[user_id][-1])


def test_email_on_and_off_parse() -> None:
    assert parse("email on") == EmailChoice(True) and parse("EMAIL Off") == EmailChoice(False)
    for text in ("email", "email maybe", "email on please"):
        request = parse(text)
        assert isinstance(request, Help) and "send `email on` or `email off`" in (request.problem or "")


def with_smtp(bot: Bot) -> None:
    """An email provider configured (the choice is refused without one)."""
    bot.services.settings = dataclasses.replace(bot.services.settings, smtp_host="127.0.0.1")


def test_email_on_without_a_provider_says_so_and_changes_nothing(bot: Bot) -> None:
    reply = bot.command("email on")
    assert "Email is not set up for this bot yet" in reply and "SMTP_HOST" in reply
    assert preferences(bot).email_choice("CSM001") is None
    assert "no longer come by email" in bot.command("email off")  # turning it off needs no provider


def test_a_csm_turns_their_own_email_on_and_off(bot: Bot) -> None:
    with_smtp(bot)
    assert (
        "*Your weekly reports come by:* Slack DM. `/weekly-report email on` turns the email on."
        in home_of(bot, SARAH)
    )
    reply = bot.command("email on")
    assert reply == (
        ":email: Your weekly reports now come by email to sarah.johnson@example.com. "
        "They come by Slack DM and email; `/weekly-report email off` changes it."
    )
    assert preferences(bot).email_choice("CSM001") is True
    assert preferences(bot).email_choice("CSM002") is None  # Michael's is his own
    assert "*Your weekly reports come by:* Slack DM and email." in home_of(bot, SARAH)

    bot.dm(SARAH, "email off")  # as DM text too
    bot.settle(lambda: any("no longer come by email" in m["text"] for m in dispatch.posted(bot.slack, SARAH)))
    assert preferences(bot).email_choice("CSM001") is False
    [row] = bot.services.engine.warehouse.query(
        "SELECT updated_by FROM csm_preferences WHERE csm_id = 'CSM001'"
    )
    assert row["updated_by"] == SARAH
    assert "*Your weekly reports come by:* Slack DM." in home_of(bot, SARAH)


def test_email_keeps_a_pause_and_only_csms_may_choose(bot: Bot) -> None:
    with_smtp(bot)
    bot.command("pause", user_id=MICHAEL)
    assert "no longer come by email" in bot.command("email off", user_id=MICHAEL)
    assert (
        preferences(bot).pause_of("CSM002") is not None and preferences(bot).email_choice("CSM002") is False
    )

    for who in (OUTSIDER, ADMIN):  # an admin who is not a CSM has no weekly reports either
        reply = bot.command("email on", user_id=who)
        assert (
            "Sorry, you are not a CSM in csm_assignments, so no weekly reports of yours go by email." in reply
        )
    assert "send `email on` or `email off`" in bot.command("email sometimes")
    assert bot.count("csm_preferences") == 1  # Michael's row only


def test_help_names_the_email_choice(bot: Bot) -> None:
    assert "`/weekly-report email on` / `/weekly-report email off`" in bot.command("help")
