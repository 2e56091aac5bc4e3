"""Who is asking, and how to reach a CSM.

A Slack user is a CSM when `csm_assignments.slack_user_id` names them, else when the email
Slack has for them (`users.info`, needs users:read.email) matches a `csm_email`, ignoring
case. Admins come from WEEKLY_REPORT_ADMINS (emails or Slack user ids). A CSM is reached by
their `slack_user_id`, else by `users.lookupByEmail`. Lookups are cached for `ttl` seconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cache import KeyedLocks, TtlCache
from core import Assignment, ReportEngine, Requester, Settings, Target

log = logging.getLogger("weekly_report.bot.identity")
UNKNOWN_USER_ERRORS = {"user_not_found", "user_not_visible", "users_not_found", "account_inactive"}


@dataclass(frozen=True)
class Person:
    """A Slack user as the bot sees them."""

    user_id: str
    requester: Requester
    name: str | None = None

    @property
    def is_csm(self) -> bool:
        return self.requester.csm_id is not None


class People:
    """Maps Slack users to requesters and CSMs to Slack users, with a TTL cache."""

    def __init__(self, settings: Settings, engine: ReportEngine, ttl: float = 600.0) -> None:
        self.settings, self.engine = settings, engine
        self._people: TtlCache[Person] = TtlCache(ttl)
        self._roster: TtlCache[list[Assignment]] = TtlCache(ttl)
        self._slack_ids: TtlCache[str] = TtlCache(ttl)
        self._roster_lock = threading.Lock()
        self._resolving = KeyedLocks()

    def person(self, client: WebClient, user_id: str) -> Person:
        """Who `user_id` is: a CSM, an admin, or neither (then the engine refuses them)."""
        cached = self._people.get(user_id)
        if cached is not None:
            return cached
        with self._resolving.hold(user_id):  # a burst from one new person makes one lookup
            return self._people.get(user_id) or self._resolve(client, user_id)

    def _resolve(self, client: WebClient, user_id: str) -> Person:
        assignment = next((a for a in self.roster() if a.slack_user_id == user_id), None)
        email = assignment.csm_email if assignment else self._email(client, user_id)
        if assignment is None and email:
            assignment = next((a for a in self.roster() if a.csm_email.lower() == email.lower()), None)
        requester = Requester(
            csm_id=assignment.csm_id if assignment else None,
            email=email,
            is_admin=self.settings.is_admin(user_id, email),
        )
        person = Person(user_id, requester, assignment.csm_name if assignment else None)
        role = f"CSM {requester.csm_id}" if requester.csm_id else "not a CSM"
        log.info("Slack user %s is %s%s", user_id, role, " (admin)" if requester.is_admin else "")
        return self._people.put(user_id, person)

    def roster(self) -> list[Assignment]:
        """Every CSM–customer assignment (cached; one thread reloads it, the others wait)."""
        roster = self._roster.get("all")
        if roster is None:
            with self._roster_lock:
                roster = self._roster.get("all")
                if roster is None:
                    roster = self._roster.put("all", self.engine.directory.assignments())
        return roster

    def customers_of(self, person: Person) -> list[Assignment]:
        """The assignments a person's reports come from: theirs, or everyone's for an admin."""
        if person.requester.is_admin and not person.is_csm:
            return list({a.customer_id: a for a in self.roster()}.values())
        return [a for a in self.roster() if a.csm_id == person.requester.csm_id]

    def known_targets(self, person: Person, customer_id: str | None) -> list[Target] | None:
        """What the roster says `person` may ask for (`customer_id`, or their portfolio), if it says yes.

        None means "ask the engine": it decides, and explains a refusal.
        """
        mine = self.customers_of(person)
        if customer_id is None:
            return [Target(a.csm_id, a.customer_id) for a in mine] or None
        pool = self.roster() if person.requester.is_admin else mine
        found = next((a for a in pool if a.customer_id == customer_id), None)
        return [Target(found.csm_id, customer_id)] if found else None

    def customer_name(self, customer_id: str) -> str | None:
        return next((a.customer_name for a in self.roster() if a.customer_id == customer_id), None)

    def slack_user_for(self, client: WebClient, assignment: Assignment) -> str | None:
        """The CSM's Slack user id, or None (logged) when Slack does not know their email."""
        if assignment.slack_user_id:
            return assignment.slack_user_id
        return self.slack_user_by_email(client, assignment.csm_email, assignment.csm_id)

    def slack_user_by_email(self, client: WebClient, email: str, who: str) -> str | None:
        """The Slack user id of `email` (`who` names the person in the log), or None when unknown."""
        cached = self._slack_ids.get(email.lower())
        if cached is not None:
            return cached
        try:
            user = client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") not in UNKNOWN_USER_ERRORS:
                raise
            log.warning(
                "no Slack user for %s (%s): %s; set csm_assignments.slack_user_id",
                who, email, exc.response.get("error"),
            )  # fmt: skip
            return None
        return self._slack_ids.put(email.lower(), user["user"]["id"])

    def _email(self, client: WebClient, user_id: str) -> str | None:
        try:
            user = client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") not in UNKNOWN_USER_ERRORS:
                raise
            log.warning("Slack does not know user %s: %s", user_id, exc.response.get("error"))
            return None
        email = (user.get("user") or {}).get("profile", {}).get("email")
        if not email:
            log.warning("no email for Slack user %s; does the app have the users:read.email scope?", user_id)
        return email
