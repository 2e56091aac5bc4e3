"""Who is asking, and how to reach a CSM.

A Slack user is a CSM when `csm_assignments.slack_user_id` names them, else when the email
Slack has for them (`users.info`, needs users:read.email) matches a `csm_email`, ignoring
case. Admins come from WEEKLY_REPORT_ADMINS (emails or Slack user ids). A CSM is reached by
their `slack_user_id`, else by `users.lookupByEmail`. A sales rep is the company-side speaker
of the coaching kind whose email is the person's (`rep_of`); whether they may see a review
is the coaching engine's decision. Lookups are cached for `ttl` seconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cache import KeyedLocks, TtlCache
from core import Assignment, ReportEngine, Requester, Settings, Target
from core.kinds import COACHING, Subject

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

    def __init__(
        self,
        settings: Settings,
        engine: ReportEngine,
        ttl: float = 600.0,
        coaching: ReportEngine | None = None,
    ) -> None:
        """`engine`: the EBR's (its directory of CSMs); `coaching`: the coaching kind's, if any (its reps)."""
        self.settings, self.engine, self.coaching = settings, engine, coaching
        self._people: TtlCache[Person] = TtlCache(ttl)
        self._roster: TtlCache[list[Assignment]] = TtlCache(ttl)
        self._reps: TtlCache[tuple[dict[str, Subject], dict[str, Subject]]] = TtlCache(ttl)
        self._managers: TtlCache[dict[str, str]] = TtlCache(ttl)
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

    def reps(self) -> dict[str, Subject]:
        """Every sales rep the coaching kind knows, by rep id (cached; empty without the kind)."""
        return self._rep_index()[0]

    def _rep_index(self) -> tuple[dict[str, Subject], dict[str, Subject]]:
        """The reps by id and by email (lower case), loaded together (one thread loads them)."""
        index = self._reps.get("all")
        if index is None:
            with self._roster_lock:
                index = self._reps.get("all")
                if index is None:
                    reps = self._load_reps()
                    by_email = {
                        str(r.detail.get("email")).lower(): r for r in reps.values() if r.detail.get("email")
                    }
                    index = self._reps.put("all", (reps, by_email))
        return index

    def _load_reps(self) -> dict[str, Subject]:
        if self.coaching is None:
            return {}
        kind, warehouse = self.coaching.kind, self.coaching.warehouse
        ids = [t.subject_id for t in kind.targets(warehouse)]
        return dict(kind.subjects(warehouse, ids)) if ids else {}

    def rep_of(self, person: Person) -> Subject | None:
        """The sales rep `person` is: the one whose email is theirs (case ignored), if any."""
        email = (person.requester.email or "").lower()
        return self._rep_index()[1].get(email) if email else None

    def manager_of(self, person: Person) -> str | None:
        """The manager id of the sales team `person` manages (by their email), if any."""
        email = (person.requester.email or "").lower()
        if not email or self.coaching is None:
            return None
        managers = self._managers.get("all")
        if managers is None:
            found = COACHING.managers(self.coaching.warehouse)
            managers = self._managers.put("all", {e.lower(): m for m, (_, e, _) in found.items() if e})
        return managers.get(email)

    def coaching_role(self, person: Person) -> str | None:
        """Whose sales-coaching reviews are open to `person`: "admin" (all), "rep" (their own),
        "manager" (their team's), or None."""
        if self.coaching is None:
            return None
        if person.requester.is_admin:
            return "admin"
        if self.rep_of(person) is not None:
            return "rep"
        return "manager" if self.manager_of(person) is not None else None

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
                "no Slack user for %s (%s): %s; set their slack_user_id (csm_assignments for a CSM, "
                "COACHING.speakers for a rep or manager)",
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
