"""`weekly-report bot`: the Bolt app over Socket Mode, until SIGINT or SIGTERM.

`BotRunner` owns everything that runs: the services (engine, ledger, worker pools), the
app, its Socket Mode connection, and (a later addition) the weekly scheduler, which
would be started in `start()` and stopped first in `stop()`.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.services import Services
from bot.slack import create_app
from core import Settings
from core.errors import ConfigError

log = logging.getLogger("weekly_report.bot")
STOP_GRACE_SECONDS = 30.0  # running jobs get this long to finish on shutdown
# Threads that take envelopes off the socket and wait for their ack (slack_sdk default: 10).
SOCKET_THREADS = 32


def require_tokens(settings: Settings) -> tuple[str, str]:
    """The bot and app-level tokens, or a ConfigError saying which is missing or wrong."""
    bot, app = settings.slack_bot_token, settings.slack_app_token
    missing = [name for name, value in (("SLACK_BOT_TOKEN", bot), ("SLACK_APP_TOKEN", app)) if not value]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} {'are' if len(missing) > 1 else 'is'} not set; create the Slack app from manifest.yml and set "
            "SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-..., scope connections:write)"
        )
    assert bot and app
    if not app.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-...), with connections:write")
    return bot, app


class BotRunner:
    """The running bot: `start()` connects, `stop()` disconnects and drains; `serve()` does both."""

    def __init__(self, settings: Settings, services: Services | None = None) -> None:
        _, app_token = require_tokens(settings)
        self.settings = settings
        self.services = services or Services.start(settings)
        try:
            self.app: App = create_app(settings, self.services)
        except BaseException:
            self.services.close(0)
            raise
        self.handler = SocketModeHandler(self.app, app_token=app_token, concurrency=SOCKET_THREADS)
        self._stopping = threading.Event()
        self._stopped = False

    def start(self) -> None:
        """Open the Socket Mode connection (its own threads receive and acknowledge)."""
        try:
            self.handler.connect()
        except SlackApiError as exc:
            raise ConfigError(
                f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}); it must be the app-level "
                "token (xapp-...) with connections:write"
            ) from exc
        except (URLError, OSError) as exc:
            raise ConfigError(
                f"cannot reach Slack at {self.settings.slack_api_url} ({exc}); check SLACK_API_URL"
            ) from exc
        log.info(
            "connected over Socket Mode (Web API %s); %d worker thread(s)",
            self.settings.slack_api_url, self.settings.concurrency,
        )  # fmt: skip

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Disconnect, let running jobs finish (up to `grace` seconds), close the warehouse."""
        if self._stopped:
            return
        self._stopped = True
        log.info("stopping: closing the Socket Mode connection")
        self.handler.close()
        self.services.close(grace)
        log.info("stopped")

    def serve(self) -> int:
        """Run until SIGINT or SIGTERM; then stop gracefully."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not self._stopping.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self._stopping.set()


def serve(settings: Settings) -> int:
    """`weekly-report bot`."""
    return BotRunner(settings).serve()
