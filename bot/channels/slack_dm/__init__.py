"""Slack DM: each report as a parent message in the CSM's DM with the bot, its sections in the thread."""

from __future__ import annotations

from bot.channels.base import ChannelServices
from bot.channels.slack_dm.channel import SlackDm
from bot.charts.files import warm_up


def open_channel(services: ChannelServices) -> SlackDm | None:
    """The channel, or None without a Slack client (no SLACK_BOT_TOKEN)."""
    if services.client is None or services.poster is None or services.people is None:
        return None
    if services.settings.charts:
        warm_up()
    return SlackDm(
        services.client, services.poster, services.deliveries, services.people, services.settings.charts
    )


__all__ = ["SlackDm", "open_channel"]
