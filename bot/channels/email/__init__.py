"""The email channel: one HTML email (with a text alternative) per recipient per week."""

from bot.channels.email.channel import EmailChannel, email_channel, ledger_key

__all__ = ["EmailChannel", "email_channel", "ledger_key"]
