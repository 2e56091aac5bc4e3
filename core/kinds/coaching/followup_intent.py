"""What a follow-up question on a coaching review asks: a small keyword grammar, no model.

`parse` reads the question into a `Question`: its kind (the first row of `RULES` whose test
holds), the score dimensions it names, the objection label it names, whether it asks for the
best or the worst, and the period (`Span`). Periods reuse the EBR analyst's generic readers
(core/agent/local/intent.find_period, periods.find_calendars/resolve) and are resolved against
the review's own dates. Every slot holds a value from a fixed list or a date built here; the
objection label is matched against the rep's own labels and bound as a parameter, so no text
of the question reaches SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.agent.local.intent import MAX_QUESTION_CHARS, find_period, is_other_language
from core.agent.local.periods import DateSpan, find_calendars, resolve
from core.weeks import Week

# Score columns of coaching_sessions, in the report's order, with how people name them.
DIMENSIONS: dict[str, str] = {
    "product_knowledge": "Product knowledge",
    "discovery": "Discovery",
    "objection_handling": "Objection handling",
    "engagement": "Engagement",
}
OVERALL = "overall_score"
LABELS = {**DIMENSIONS, OVERALL: "Overall score"}
_DIMENSION_PATTERNS = (
    ("objection_handling", r"objection[\s-]+handling|handl(?:e|ed|ing)\s+objections"),
    ("product_knowledge", r"product[\s-]+knowledge|\bproduct\b|\bknowledge\b"),
    ("discovery", r"\bdiscovery\b"),
    ("engagement", r"\bengagement\b|\bengag(?:e|ed|ing)\b"),
    (OVERALL, r"\boverall\b|\btotal\s+score\b"),
)
# Words for an objection label that are not the label itself.
LABEL_ALIASES = {
    "price": "pricing", "prices": "pricing", "cost": "pricing", "costs": "pricing", "expensive": "pricing",
    "budgets": "budget", "competition": "competitor", "competitors": "competitor", "competing": "competitor",
    "time": "timing", "timeline": "timing", "integrations": "integration", "integrate": "integration",
    "decision": "authority", "sign-off": "authority", "signoff": "authority",
}  # fmt: skip

_REP_ID = re.compile(r"\brep\d+\b", re.IGNORECASE)
_OTHERS = re.compile(
    r"\b(?:my|the|our|whole)\s+team(?:'s)?\b(?!\s+average)|\bteam\s*mates?\b|\bcolleagues?\b|\bother\s+reps?\b"
    r"|\bevery(?:one|body)\b|\ball\s+(?:the\s+)?reps\b|\bevery\s+rep\b|\bleader\s*board\b|\branking\b"
    r"|\bwho\s+(?:else|on|in)\b|\bwho\s+(?:has|had|is|was)\s+the\s+(?:best|worst|highest|lowest)\b"
    r"|\bteam\s+average\b|\bcompared?\s+(?:me\s+)?(?:to|with)\s+(?:others|the\s+team|my\s+peers)\b|\bpeers?\b",
    re.IGNORECASE,
)
# A person's scores or calls ("David's discovery score", "how did David do?"); a customer's words
# ("Northwind's CFO") are not about a rep.
_ABOUT_PERSON = r"(?:\s+\w+){0,2}\s+(?:scores?|calls?|reviews?|numbers|performance|results|discovery|engagement|product|objection)"
_POSSESSIVE_NAME = re.compile(r"\b([A-Z][a-z]+)(?:\s+[A-Z][a-z'’]+)?['’]s\b(?=" + _ABOUT_PERSON + ")")
_ABOUT_NAME = re.compile(
    r"\b(?i:how\s+(?:did|does|is|was))\s+([A-Z][a-z]+)\s+(?i:do|doing|score|scoring|perform|performing)\b"
    r"|\b(?i:what\s+about|compare\s+me\s+(?:to|with)|than|versus|vs\.?|me\s+and)\s+([A-Z][a-z]+)\b"
)
_MOMENTS = re.compile(
    r"\bwhere\s+(?:did\s+)?i\b|\bhow\s+did\s+i\s+(?:handle|answer|respond|deal)|\bhandled\b|\bquotes?\b"
    r"|\bmoments?\b|\bwhat\s+did\s+(?:i|they|the\s+customer)\s+say\b|\bexamples?\b|\bshow\s+me\s+(?:where|when|how)\b",
    re.IGNORECASE,
)
_OBJECTION = re.compile(r"\bobjections?\b|\bpush\s*back\b|\bconcerns?\b", re.IGNORECASE)
_NAMED_LABEL = (
    re.compile(
        r"\b(?:objections?|push\s*back|concerns?)\s+(?:about|on|over|around|regarding|to|with)\s+(?:the\s+)?([a-z][a-z-]+)",
        re.IGNORECASE,
    ),
    re.compile(r"\b([a-z][a-z-]+)\s+(?:objections?|push\s*back|concerns?)\b", re.IGNORECASE),
)
_NOT_LABELS = frozenset(
    "the a an my any all which what each every most recurring common top main same customer customers "
    "their these those other handling handle handled this that had have has get got getting raised raise were "
    "are was is did do does hear heard faced face many more most recent latest biggest main key no some few "
    "new old last first same such real".split()
)
_FOCUS = re.compile(
    r"\bfocus\b|\bimprove\b|\bwork\s+on\b|\bget\s+better\b|\bweak(?:est|nesses?)?\b|\bpractice\b"
    r"|\bcoach(?:ing)?\s+tips?\b|\bwhat\s+should\s+i\b|\bnext\s+steps?\b|\bpriorit",
    re.IGNORECASE,
)
_BEST = re.compile(r"\b(?:best|highest|top|strongest)\b", re.IGNORECASE)
_WORST = re.compile(r"\b(?:worst|lowest|weakest|poorest)\b", re.IGNORECASE)
_CALL = re.compile(r"\bcalls?\b|\bmeetings?\b|\bconversations?\b", re.IGNORECASE)
_COUNT_OR_LIST = re.compile(
    r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\blist\b|\bshow\b|\bwhich\b|\bwhat\b|\bmy\s+calls\b|\bwho\s+did\s+i\b",
    re.IGNORECASE,
)
_SCORE = re.compile(
    r"\bscor(?:e|es|ed|ing)\b|\bhow\s+(?:did|have|am)\s+i\s+(?:do|done|doing)\b|\bperformance\b|\btrend\b"
    r"|\bprogress\b|\bimprov(?:e|ed|ing)\b",
    re.IGNORECASE,
)
_EVERY_DIMENSION = re.compile(
    r"\bscores\b|\bdimensions\b|\bhow\s+(?:did|have|am)\s+i\s+(?:do|done|doing)\b", re.I
)
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|thanks|thank\s+you|thx|cheers)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """The days a question asks about (both included), and how to name them in an answer."""

    start: dt.date
    end: dt.date
    name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Span:
        """The span of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        start = end - dt.timedelta(days=self.days - 1)
        return Span(start, end, "the week before" if self.days == 7 else f"the {self.days} days before")

    def label(self) -> str:
        return DateSpan(self.start, self.end, self.name).label()

    def described(self) -> str:
        """ "the review week (Nov 09 – Nov 15, 2026)" """
        return f"{self.name} ({self.label()})"


@dataclass(frozen=True)
class Question:
    """A parsed question. `kind`: objections, moments, focus, best_worst, calls, scores,
    other_rep, unresolved_period, other_language, unknown. `label` is the objection named
    (an alias already mapped, e.g. "price" -> "pricing"), `asked_label` as written; `dimensions`
    the score columns named; `worst` whether it asks for the worst rather than the best."""

    kind: str
    span: Span
    dimensions: tuple[str, ...] = ()
    label: str = ""
    asked_label: str = ""
    worst: bool = False
    note: str = ""  # how the period was read, when that is worth saying
    problem: str = ""  # the period phrase that could not be resolved
    greeting: bool = False
    every_dimension: bool = False  # "my scores", "how did I do": every dimension, when none is named


def review_span(week: Week) -> Span:
    """The review's own dates."""
    name = "the review week" if (week.end - week.start).days == 6 else "the review period"
    return Span(week.start, week.end, name)


def parse(text: str, week: Week, rep_id: str, rep_name: str) -> Question:
    """Read a follow-up question about `rep_id`'s review of `week`."""
    text = " ".join(text.split())
    base = review_span(week)
    if not text or len(text) > MAX_QUESTION_CHARS:
        return Question("unknown", base)
    if is_other_language(text):
        return Question("other_language", base)
    if about_someone_else(text, rep_id, rep_name):
        return Question("other_rep", base)
    span, note, problem = find_span(text, week)
    if problem:
        return Question("unresolved_period", base, problem=problem)
    dimensions = find_dimensions(text)
    label = asked_label(text)
    for kind, test in RULES:
        if test(text):
            return Question(
                kind, span, dimensions, LABEL_ALIASES.get(label, label), label,
                worst=bool(_WORST.search(text)) and not _BEST.search(text), note=note,
                every_dimension=bool(_EVERY_DIMENSION.search(text)),
            )  # fmt: skip
    return Question("unknown", span, greeting=bool(_GREETING.search(text)))


def _calls_question(text: str) -> bool:
    return bool(_CALL.search(text) and _COUNT_OR_LIST.search(text))


def _best_worst(text: str) -> bool:
    return bool(_CALL.search(text) and (_BEST.search(text) or _WORST.search(text)))


def _scores(text: str) -> bool:
    return bool(find_dimensions(text) or _SCORE.search(text))


RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("moments", lambda t: bool(_MOMENTS.search(t) and (_OBJECTION.search(t) or asked_label(t)))),
    ("objections", lambda t: bool(_OBJECTION.search(t)) and not find_dimensions(t)),
    ("best_worst", _best_worst),
    ("focus", lambda t: bool(_FOCUS.search(t))),
    ("calls", _calls_question),
    ("scores", _scores),
)


def about_someone_else(text: str, rep_id: str, rep_name: str) -> bool:
    """Whether the question asks about another rep or the team's scores (a rep sees only their own)."""
    if any(m.upper() != rep_id.upper() for m in _REP_ID.findall(text)):
        return True
    if _OTHERS.search(text):
        return True
    own = {part.lower() for part in rep_name.split()}
    names = [m.group(1) for m in _POSSESSIVE_NAME.finditer(text)]
    names += [m.group(1) or m.group(2) for m in _ABOUT_NAME.finditer(text)]
    return any(name.lower() not in own and name.lower() not in _NOT_NAMES for name in names)


# Capitalised words that are not people ("What's", "Today's", a dimension at a sentence start).
_NOT_NAMES = frozenset(
    "what that it there here who where how today yesterday week month quarter year monday tuesday wednesday "
    "thursday friday saturday sunday discovery engagement product objection pricing budget customer i".split()
)


def find_dimensions(text: str) -> tuple[str, ...]:
    """The score columns the question names, in the order it names them."""
    found: list[tuple[int, str]] = []
    for key, pattern in _DIMENSION_PATTERNS:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            found.append((match.start(), key))
        text = re.sub(pattern, lambda m: " " * len(m[0]), text, flags=re.IGNORECASE)
    return tuple(dict.fromkeys(key for _, key in sorted(found)))


def asked_label(text: str) -> str:
    """The objection label a question names ("pricing" in "which calls had pricing objections?"),
    lower case as written; "" when it names none."""
    for pattern in _NAMED_LABEL:
        for match in pattern.finditer(text):
            word = match.group(1).lower()
            if word not in _NOT_LABELS:
                return word
    for word in re.findall(r"[a-z-]+", text.lower()):
        if word in LABEL_ALIASES or word in LABEL_ALIASES.values():
            return word
    return ""


def match_label(asked: str, labels: Iterable[str]) -> str | None:
    """The rep's own label the asked word stands for (exact, an alias, or a plural), or None."""
    known = {label.lower(): label for label in labels}
    for candidate in (asked, LABEL_ALIASES.get(asked, ""), asked.rstrip("s")):
        if candidate and candidate in known:
            return known[candidate]
    return None


def find_span(text: str, week: Week) -> tuple[Span, str, str]:
    """The period a question asks about: (span, note, problem). Weeks relative to the review
    ("last month" is the last 4 weeks, "last 3 weeks", "the previous week") come first, then
    calendar periods ("in October"); the review's own dates when it names none. `problem` is the
    phrase of a period that cannot be resolved (a holiday, "next week"), when there is one."""
    base = review_span(week)
    period, note = find_period(text)
    if period.kind == "weeks":
        start = week.end - dt.timedelta(days=7 * period.count - 1)
        return Span(start, week.end, f"the last {period.count} weeks"), note, ""
    if period.kind in ("previous", "ago", "year_ago"):
        back = {"previous": 1, "year_ago": 52}.get(period.kind, 1 - period.offsets[0])
        start = week.start - dt.timedelta(days=7 * back)
        return Span(start, start + dt.timedelta(days=6), "that week"), note, ""
    for calendar in find_calendars(text):
        if calendar.problem:
            return base, "", calendar.problem
        if calendar.kind:
            resolved = resolve(calendar, week.end)
            if resolved is None or resolved.start > week.end:
                return base, "", calendar.text
            span = resolved.clipped(week.end)
            note = f"up to the end of {base.name}" if span.end < resolved.end else ""
            return Span(span.start, span.end, span.name or calendar.text), note, ""
    return base, "", ""
