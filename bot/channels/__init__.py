"""Delivery channels: one registration line each, looked up by the names WEEKLY_REPORT_DELIVERY uses.

A channel is a folder here (its rendering and its sending) plus one `register(name, factory)`
line below; the factory gets the ChannelServices and returns the channel, or None when it is
not configured (Slack without a token). The weekly job opens the channels a run needs, hands
each recipient's Parcel to every channel that recipient has, and closes them after the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from bot.channels import console, email, slack_dm
from bot.channels.base import (
    Channel,
    ChannelFactory,
    ChannelServices,
    Outcome,
    Parcel,
    Preview,
    Recipient,
)
from core.errors import ConfigError

CHANNELS: dict[str, ChannelFactory] = {}


def register(name: str, factory: ChannelFactory) -> None:
    """Make `name` a channel WEEKLY_REPORT_DELIVERY and the per-person preferences can name."""
    CHANNELS[name] = factory


register("slack", slack_dm.open_channel)
register("console", console.open_channel)
register("email", email.email_channel)


def open_channels(
    names: Iterable[str], services: ChannelServices, optional: Iterable[str] = ()
) -> dict[str, Channel]:
    """The named channels, opened: a ConfigError names one that is unknown or not configured.
    Of the `optional` ones (what some person chose for themselves), those that cannot be
    opened are left out of the result: the weekly job reports them per person."""
    opened: dict[str, Channel] = {}
    try:
        for name in dict.fromkeys(names):
            opened[name] = _open(name, services)
        for name in dict.fromkeys(optional):
            if name not in opened:
                with contextlib.suppress(ConfigError):
                    opened[name] = _open(name, services)
    except BaseException:
        close_channels(opened.values())
        raise
    return opened


def _open(name: str, services: ChannelServices) -> Channel:
    factory = CHANNELS.get(name)
    if factory is None:
        raise ConfigError(f"there is no '{name}' delivery channel; known: {', '.join(sorted(CHANNELS))}")
    channel = factory(services)
    if channel is None:
        raise ConfigError(_not_configured(name))
    return channel


def close_channels(channels: Iterable[Channel]) -> None:
    for channel in channels:
        channel.close()


def _not_configured(name: str) -> str:
    if name == "slack":
        return "delivery to Slack needs SLACK_BOT_TOKEN; set it, or set WEEKLY_REPORT_DELIVERY without slack"
    return f"the '{name}' delivery channel is not configured"


__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelFactory",
    "ChannelServices",
    "Outcome",
    "Parcel",
    "Preview",
    "Recipient",
    "close_channels",
    "open_channels",
    "register",
]
