"""`weekly-report bot`: the Bolt app over Socket Mode, until SIGINT or SIGTERM.

`BotRunner` owns everything that runs: the services (engine, ledger, worker pools), the
app, its Socket Mode connection, and the weekly scheduler (APScheduler, bot.schedule), which
is started in `start()` and stopped first in `stop()`. A weekly run still going on at stop
is asked to stop after its current delivery and left unfinished: its claim then goes stale
(or its process is seen gone) and the next start resumes it, the same day.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from urllib.error import URLError

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient

from bot.channels.slack_dm.delivery import Poster
from bot.coaching.flow import run_coaching
from bot.schedule import COACHING_JOB, CoachingSchedule, WeeklySchedule
from bot.scheduled_coaching import CoachingFlow, ScheduledCoaching
from bot.services import Services
from bot.slack import create_app
from bot.slack.identity import People
from bot.weekly import WeeklyJob
from core import RunClaims, Settings, collector
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

    def __init__(
        self,
        settings: Settings,
        services: Services | None = None,
        share: bool = False,
        coaching_flow: CoachingFlow | None = None,
    ) -> None:
        """`share`: serve the warehouse to the command line while the bot runs (Services.start);
        `coaching_flow`: the coaching run the coaching schedule calls (default: the coaching flow)."""
        _, app_token = require_tokens(settings)
        self.settings = settings
        self.services = services or Services.start(settings, share=share)
        try:
            self.app: App = create_app(settings, self.services)
        except BaseException:
            self.services.close(0)
            raise
        self.handler = SocketModeHandler(self.app, app_token=app_token, concurrency=SOCKET_THREADS)
        self.scheduler = BackgroundScheduler(timezone=settings.tz)
        claims = RunClaims(self.services.engine.warehouse)
        self.weekly = WeeklyJob(
            settings, self.services.engine, self.services.deliveries, self.app.client,
            pacer=self.services.pacer, claims=claims,
        )  # fmt: skip
        self.schedule = WeeklySchedule(
            self.scheduler,
            settings,
            self.services.engine.directory.assignments,
            self.weekly,
            claims.needs_run,
        )
        self.coaching_schedule = self._coaching(coaching_flow or run_coaching, claims)
        self._stopping = threading.Event()
        self._stopped = False
        self._froze = False

    def _coaching(self, flow: CoachingFlow, claims: RunClaims) -> CoachingSchedule | None:
        """The coaching schedule, when this bot has the coaching kind."""
        engine = self.services.engines.get("coaching")
        if engine is None:
            log.warning("no sales-coaching schedule: the coaching kind is not registered")
            return None
        job = ScheduledCoaching(
            self.settings, engine, self.services.deliveries, flow, claims=claims, client=self.app.client,
            poster=Poster(self.app.client, self.services.pacer),
            people=People(self.settings, self.services.engine, coaching=engine),
        )  # fmt: skip
        return CoachingSchedule(self.scheduler, self.settings, job, claims.needs_run)

    def start(self, schedule: bool = True) -> None:
        """Open the Socket Mode connection (its own threads receive and acknowledge), then
        start the weekly schedule unless `schedule` is False (tests of the Slack side only)."""
        # What start-up built (modules, the app, the engine, caches) lives as long as the bot:
        # out of the collector's sight, a full collection (which stops every thread, acks
        # included) walks only what requests create, a few ms instead of 60-100.
        if not self._froze:
            collector.freeze()
            self._froze = True
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
        if schedule:
            self.start_schedule()

    def start_schedule(self) -> None:
        """Install the weekly jobs (catching up a run missed today) and start the scheduler."""
        self.schedule.install()
        if self.coaching_schedule is not None:
            self.coaching_schedule.install()
        self.scheduler.start()
        for group in self.schedule.plan.groups:
            job = self.scheduler.get_job(group.job_id)
            fire = getattr(job, "next_run_time", None)
            log.info(
                "weekly reports for %d CSM(s) in %s: next run %s",
                len(group.csm_ids), group.timezone, fire.isoformat() if fire else "never",
            )  # fmt: skip
        coaching = self.scheduler.get_job(COACHING_JOB) if self.coaching_schedule else None
        if coaching is not None:
            fire = getattr(coaching, "next_run_time", None)
            log.info("sales-coaching reviews: next run %s", fire.isoformat() if fire else "never")

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Disconnect, let running jobs finish (up to `grace` seconds), close the warehouse."""
        if self._stopped:
            return
        self._stopped = True
        if self.scheduler.running:
            log.info("stopping: the weekly scheduler (a run in progress stops after its current DM)")
            self.weekly.stop()
            self.scheduler.shutdown(wait=True)
        log.info("stopping: closing the Socket Mode connection")
        close_socket_mode(self.handler.client)
        self.services.close(grace)
        if self._froze:
            collector.thaw()
            self._froze = False
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
    return BotRunner(settings, share=True).serve()


SOCKET_CLOSE_SECONDS = 10.0  # how long closing the Socket Mode connection may take in all


def close_socket_mode(client: SocketModeClient, limit: float = SOCKET_CLOSE_SECONDS) -> None:
    """Close slack_sdk's built-in Socket Mode client within `limit` seconds.

    Its close() sets the session's `terminated` and joins the session runner with no timeout;
    a runner starting a round at that moment sets `terminated = False` again and never ends
    (slack_sdk 3.48; tests/test_bot_socket_mode reproduces it), so stopping the bot hung.
    While close() waits, the session is ended again, as close() meant to; past `limit` the
    runner (a daemon thread) is left behind with a warning rather than stopping forever.
    """
    closing = threading.Thread(target=client.close, name="socket-mode-close", daemon=True)
    closing.start()
    deadline = time.monotonic() + limit
    while closing.is_alive() and time.monotonic() < deadline:
        closing.join(0.2)
        client.current_session_state.terminated = True
    if closing.is_alive():
        log.warning("the Socket Mode connection did not close within %.0f s; stopping without it", limit)
