"""The one error hierarchy of weekly-report.

    WeeklyReportError              every error this project raises on purpose
    ├── ConfigError                a setting is missing or malformed
    ├── InputError                 bad input from a person: nothing was written
    │   ├── InvalidCustomerId      not of the form CUST_12345
    │   ├── UnknownCustomer        well-formed, but not in `customers`
    │   ├── InvalidWeek            not a date, or a week that has not ended / has no data
    │   └── ReportNotFound         no stored report for that customer and week
    ├── NotAuthorized              the person may not see that customer
    ├── WarehouseError             the warehouse failed (vendor errors wrapped with `from`)
    │   └── WarehouseLocked        the embedded files are held by another process
    ├── AgentError                 the agent failed to answer
    │   ├── AgentUnavailable       transport failure or retryable status, retries spent
    │   ├── AgentRequestError      the agent refused the request (4xx other than retryable)
    │   └── AnswerWithheld         the answer failed the guard (core/guard): not shown, posted
    │                              or stored; `rule` names the check it failed
    └── DeliveryError              a channel could not deliver (vendor errors wrapped with `from`)
        └── EmailError             the email provider failed: `uncertain` when the email may
                                   have gone out (never retried), `permanent` when a retry
                                   cannot help

Every message is one line meant for the person who ran the command; secrets never appear.
"""

from __future__ import annotations


class WeeklyReportError(Exception):
    """Base of every error raised on purpose by weekly-report."""


class ConfigError(WeeklyReportError):
    """A setting is missing or malformed."""


class InputError(WeeklyReportError):
    """Input from a person is invalid; nothing was written."""


class InvalidCustomerId(InputError):
    """A customer id that is not of the form CUST_<digits>."""


class UnknownCustomer(InputError):
    """A well-formed customer id that the warehouse does not know."""


class UnknownSubject(InputError):
    """A well-formed subject id (e.g. a rep's) that the warehouse does not know."""


class InvalidWeek(InputError):
    """A week that is malformed, not over yet, or without data."""


class ReportNotFound(InputError):
    """No stored report matches the request."""


class NotAuthorized(WeeklyReportError):
    """The requester may not see this customer."""


class WarehouseError(WeeklyReportError):
    """The warehouse failed to run a statement."""


class WarehouseLocked(WarehouseError):
    """The embedded warehouse files are locked by another process (`holder`, its pid, if known)."""

    def __init__(self, message: str, holder: int | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class AgentError(WeeklyReportError):
    """The agent failed to answer."""


class AgentUnavailable(AgentError):
    """The agent could not be reached, or kept answering with a retryable status."""


class AgentRequestError(AgentError):
    """The agent refused the request."""


class AnswerWithheld(AgentError):
    """The agent's answer touched more than the report's subject, so it was withheld.

    The message is for the person who asked and quotes none of the answer; `rule` names the
    guard's rule (e.g. `unscoped_table`) and `reason` says why, also without any data.
    """

    def __init__(self, subject_id: str, rule: str, reason: str = "") -> None:
        super().__init__(f"I can only answer about {subject_id}; that answer was withheld ({rule})")
        self.subject_id, self.rule, self.reason = subject_id, rule, reason


class DeliveryError(WeeklyReportError):
    """A delivery channel could not deliver."""


class ChartNotRendered(DeliveryError):
    """The chart renderer gave up on one chart (it took too long, or its process died while
    drawing it): the report or answer goes without that chart."""


class EmailError(DeliveryError):
    """The email provider failed; the message names the provider and the cause, never a secret.

    `uncertain`: the email may have been accepted (the connection dropped after it was handed
    over), so sending it again could send it twice. Otherwise it definitely was not sent, and
    `permanent` says a retry cannot help (refused address, bad credentials, a 4xx).
    """

    def __init__(self, message: str, *, uncertain: bool = False, permanent: bool = False) -> None:
        super().__init__(message)
        self.uncertain, self.permanent = uncertain, permanent

    @property
    def retryable(self) -> bool:
        return not (self.uncertain or self.permanent)
