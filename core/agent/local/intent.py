"""What a follow-up question asks: a small keyword grammar, no model.

`parse` reads the slots every rule needs (`read`), then the first row of `RULES` whose test
holds builds the intent: a new kind of question is a new row. It names the kind of question (a metric for a period, a breakdown, the benchmark, why
a metric moved, case studies, a recommendation) and fills its slots. Every slot holds a
value from a fixed list (metric keys, period kinds, "channel" or "campaign"), so no text of
the question can reach SQL; the only free text, a case-study topic, goes to the in-memory
search index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.agent.local.periods import Calendar, find_calendars

MAX_WEEKS = 52
MAX_QUESTION_CHARS = 1000  # longer text is not a question this parser can answer

# Most specific first: a matched span is blanked out so "open rate" is not also "opens".
METRIC_PATTERNS: tuple[tuple[str, str], ...] = (
    ("revenue_per_send", r"(?:revenue|sales|money)\s+(?:per|a|for\s+each|by)\s+(?:send|message)\b|\brps\b"),
    ("avg_conversion_value", r"(?:revenue|sales)\s+(?:per|a|for\s+each)\s+(?:conversion|order|purchase)\b"),
    (
        "avg_conversion_value",
        r"(?:average|avg|mean|typical)\s+(?:conversion|order|deal|purchase|basket)?\s*(?:value|size|amount)"
        r"|\baov\b|(?:conversion|order|deal|basket)\s+(?:value|size)",
    ),
    ("conversion_rate", r"conv(?:ersion|\.)?\s*rates?"),
    ("click_through_rate", r"click[\s-]*(?:through|thru)|\bctr\b|click[\s-]*rates?"),
    ("open_rate", r"open[\s-]*rates?"),
    ("engagement_score", r"engagement|\bengaged\b"),
    ("revenue", r"revenue|\bsales\b|\bincome\b|\bearn(?:ed|ings|s)?\b|\bgmv\b|\bmoney\b"),
    ("conversions", r"\bconver(?:sions?|ted|ting)\b|\borders?\b|\bpurchases?\b|\btransactions?\b"),
    ("sends", r"\bsends?\b|\bsent\b|\bvolume\b|\bdeliveries\b"),
    ("opens", r"\bopens?\b|\bopened\b"),
    ("clicks", r"\bclicks?\b|\bclicked\b"),
)
HEADLINE_METRICS = ("revenue", "conversions", "click_through_rate", "engagement_score")
CHANNEL_METRICS = ("revenue", "click_through_rate")  # "how did email do?"
TREND_WEEKS = 8  # "what's the trend?" without a number of weeks

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "twenty-six": 26,
    "twenty six": 26, "fifty-two": 52, "fifty two": 52,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6,
}  # fmt: skip
_COUNT = r"(\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_ORDINAL = r"(" + "|".join(_ORDINALS) + r")"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_N_WEEKS = _rx(
    r"\b(?:last|past|previous|prior|trailing|recent|latest)\s+" + _COUNT + r"\s*(?:full\s+)?(?:weeks?|wks?)\b"
)
_N_WEEKS_LOOSE = _rx(r"\b(?:over|for|across|in|during)\s+(?:the\s+)?" + _COUNT + r"\s*(?:weeks?|wks?)\b")
_WEEKS_AGO = _rx(r"\b(?:(a)|" + _COUNT + r")\s+weeks?\s+ago\b")
_FEW_WEEKS = _rx(r"\b(?:last|past)\s+(?:few|several|couple(?:\s+of)?)\s+weeks\b|\brecent\s+weeks\b")
_MONTH = _rx(r"\b(?:last|past)\s+month\b")
_QUARTER = _rx(r"\b(?:last|past)\s+quarter\b")
_YEAR_AGO = _rx(
    r"\b(?:same\s+week\s+)?(?:last|previous|prior)\s+year\b|\byears?\s+ago\b|\byear\s+earlier\b"
    r"|\byear[\s-]+over[\s-]+year\b|\byoy\b"
)
_PAST_YEAR = _rx(
    r"\b(?:past|trailing)\s+(?:year|12\s+months|twelve\s+months)\b"
    r"|\b(?:over|during|throughout|across|in)\s+the\s+last\s+(?:year|12\s+months|twelve\s+months)\b"
)
_TREND = _rx(r"\btrend(?:s|ing)?\b|\bover\s+time\b")
_COMPARED = _rx(
    r"\b(?:compared?|compares|vs\.?|versus|against|than|relative\s+to|over)\s+(?:with\s+|to\s+)?"
    r"(?:the\s+|a\s+)?(?:same\s+week\s+)?(?:previous|prior|last\s+year|year|week\s+before)"
)
_PREVIOUS = _rx(r"\b(?:previous|prior)\s+week\b|\bweek\s+before\b|\bweek\s+prior\b")

_INJECTION = _rx(
    r"\b(?:ignore|disregard|forget)\b.{0,30}\b(?:instructions?|prompts?|rules?|above|previous)\b"
    r"|\bsystem\s+prompt\b|\byou\s+are\s+now\b|\bpretend\b|\bjailbreak\b|\bact\s+as\b"
    r"|\bdrop\s+table\b|\bdelete\s+from\b|\binsert\s+into\b|\btruncate\s+table\b|;\s*--|<\s*script"
)
_CUSTOMER_ID = _rx(r"\bcust_\d+\b")
_GREETING = _rx(r"^\W*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))\b")
_THANKS = _rx(r"^\W*(?:thanks|thank\s+you|thx|cheers)\b")
# Channel names are data, not a fixed list; these common ones mark a question about one
# channel, which a breakdown answers (the named channel among the others).
_CHANNEL_NAME = _rx(
    r"\b(?:email|e-mail|sms|text\s+messages?|push|web|in-app|social|display|whatsapp|mobile)\b"
)

_REC_WORD = _rx(
    r"\brecommend|\brecs?\b|\brecos?\b|\bsuggestions?\b|\bnext\s+steps\b|\baction\s+items?\b"
    r"|\bwhat\s+should\s+(?:we|i)\s+do\b"
)
_REC_NUMBERS = (
    _rx(r"\b(?:recommendation|rec|reco|suggestion|action)s?\s*(?:#|no\.?|number)?\s*" + _COUNT + r"\b"),
    _rx(r"#\s*(\d+)\b"),
    _rx(r"\b" + _ORDINAL + r"\s+(?:recommendation|rec|reco|suggestion|action|one)\b"),
)
_CASE_STUDY = _rx(
    r"case[\s-]*stud|(?<!for )\bexamples?\b|success\s+stor|customer\s+stor|\bstories\b|best\s+practices?"
    r"|\bplaybooks?\b|\bwho\s+else\b|\bother\s+customers\b|\bsimilar\s+(?:customers|companies)\b"
)
_TOPIC_AFTER = _rx(
    r"(?:case[\s-]*stud(?:y|ies)|examples?|stor(?:y|ies)|best\s+practices?|playbooks?)\s+"
    r"(?:about|on|of|for|regarding|around|related\s+to|with|where|involving|that\s+show)\s+(.+)"
)
_TOPIC_FILLER = _rx(
    r"\b(?:any|are|there|do|you|have|show|me|give|find|share|some|can|could|please|case|stud(?:y|ies)"
    r"|examples?|success|customer|stor(?:y|ies)|best|practices?|playbooks?|about|on|of|for|regarding|us)\b"
)
_WHY = _rx(
    r"\bwhy\b|\bwhat\s+(?:drove|drives|caused|causes|explains|happened|changed|is\s+behind|was\s+behind)\b"
    r"|\bdrivers?\b|\bdriven\b|\breasons?\b|\bexplain|\bhow\s+come\b|\bcontribut|\bdecompos|\broot\s+cause"
)
_BENCHMARK = _rx(
    r"benchmark|\bindustry\b|\bpeers?\b|\bcompetitors?\b|\bsector\b|\bmarket\s+average\b|\bon\s+par\b"
)
_BREAKDOWN = _rx(
    r"\b(?:by|per|each|across|which)\s+(?:channels?|campaigns?)\b|\b(?:channel|campaign)\s*(?:breakdown|split|mix)"
    r"|\bbreak\s*(?:down|out)|\bbreakdown\b|\bsplit\b|\b(?:top|best|worst|biggest)\s+(?:channels?|campaigns?)\b"
)
_SUMMARY = _rx(
    r"\bhow\s+(?:did|do|are|were|is|was)\s+(?:\w+\s+){1,3}?(?:do|doing|perform|performing|go|going|trending)\b"
    r"|\bperformance\b|\boverview\b|\bsummary\b|\bkpis?\b|\bheadlines?\b|\bnumbers\b|\bmetrics\b|\brecap\b"
)
# "Is this account at risk?", "why is health Watch?", "is it healthy?", "churn risk?"
_HEALTH = _rx(
    r"\bat[\s-]+risk\b|\bchurn|\brisk\b|\bhealthy\b|\bunhealthy\b|\bverdict\b"
    r"|\b(?:account|customer|overall|its|their|the)\s+health\b|\bhealth\s+(?:is|was|status|flag|check|verdict)\b"
    r"|\bwhy\s+(?:(?:is|was)\s+)?(?:the\s+)?health\b|\bon\s+watch\b"
    r"|\bwhy\s+(?:(?:is|was)\s+)?(?:it|this|the\s+account)\s+watch\b"
)
_VERDICTS = (("at risk", r"\bat[\s-]+risk\b"), ("watch", r"\bwatch\b"), ("healthy", r"\bhealthy\b"))
_DOWN = _rx(
    r"\b(?:drop|dropped|fall|fell|falling|decline|declined|down|decrease|decreased|lower|dip|worse)\b"
)
_UP = _rx(r"\b(?:rise|rose|risen|increase|increased|up|grow|grew|growth|jump|jumped|spike|higher|better)\b")


_CHANNEL_ALIASES = {"e-mail": "email", "text message": "sms", "text messages": "sms"}
_COLLAPSE = _rx(r"\bcollaps|\bcrash|\btank|\bplummet|\bwhat\s+about\b")
_TALKING_POINTS = _rx(
    r"\btalking\s+points?\b|\bsummari[sz]e|\bsum\s+(?:it\s+)?up\b|\b(?:in\s+)?(?:3|three)\s+(?:bullets|points)\b"
    r"|\btl;?\s*dr\b|\bwhat\s+should\s+(?:i|we)\s+(?:tell|say\s+to|say|mention|bring\s+up)\b"
    r"|\bkey\s+(?:points|takeaways|messages)\b|\b(?:prep|prepare)\b.{0,30}\b(?:call|meeting|qbr|ebr)\b"
)
_COMPARE_WORD = _rx(r"\bcompar|\bvs\.?(?!\w)|\bversus\b|\bagainst\b|\brelative\s+to\b")
_WEEK_VS_WEEK = _rx(
    r"\bthis\s+week\b.{0,40}\b(?:previous|prior|last|past)\s+week\b|\bweek[\s-]+(?:over|on)[\s-]+week\b|\bwow\b"
    r"|\b(?:previous|prior)\s+week\b.{0,40}\bthis\s+week\b"
)
_VS_LAST_MONTH = _rx(r"\b(?:to|with|vs\.?|versus|against)\s+(?:the\s+)?(?:last|previous|prior)\s+month\b")
_VS_LAST_YEAR = _rx(
    r"\b(?:to|with|vs\.?|versus|against)\s+(?:the\s+same\s+week\s+)?(?:last|previous|prior)\s+year\b"
)
_CAMPAIGN_NAMES = (
    _rx(r"\bcampaigns?\s+(?:called|named|titled)?\s*[\"“‘']([^\"”’']{2,60})[\"”’']"),
    _rx(r"[\"“‘']([^\"”’']{2,60})[\"”’']\s+campaign\b"),
    _rx(r"\b(?:the|our|their|its|of|for|did|about|on|with)\s+((?:[\w&'’-]+\s+){0,5}?[\w&'’-]+)\s+campaign\b"),
)
_NOT_A_NAME = _rx(r"(?:the|a|an|this|that|each|every|which|top|best|worst|biggest|any|our|their|last|one)")
_OTHER_SCRIPT = re.compile(
    r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u097f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af¿¡]"
)
_FOREIGN_ONLY = frozenset(
    "qué cómo cuál cuánto cuántos ingresos ventas semana pasada pasado wie umsatz woche letzte letzten warum "
    "pourquoi combien semaine dernière chiffre d'affaires fatturato settimana scorsa receita omzet vorige "
    "hoeveel waarom ganancias conversiones umsätze ergebnis ventes revenus".split()
)
_FOREIGN_WORDS = frozenset(
    "que como cual el los las del la le les des une un und der die das ist wir hat haben quel quelle notre "
    "nos et y es fue foi qual mes mois monat est son sont sind war".split()
)


@dataclass(frozen=True)
class Period:
    """Weeks relative to the report week: `week` (0), `previous` (-1), `year_ago` (-52),
    `ago`, the one week `count` weeks back (a Monday's "last week" being 1), or `weeks`, the
    `count` weeks ending with the report week."""

    kind: str = "week"
    count: int = 1

    @property
    def offsets(self) -> list[int]:
        if self.kind == "previous":
            return [-1]
        if self.kind == "year_ago":
            return [-52]
        if self.kind == "ago":
            return [1 - self.count]
        return list(range(1 - self.count, 1))


@dataclass(frozen=True)
class Intent:
    """A parsed question. `kind` is one of metric, breakdown, benchmark, why, case_studies,
    recommendation, health, calendar, compare, channel, campaign, talking_points,
    unresolved_period, health_other_period, other_language, other_customer, unknown. For health, `topic` is the
    verdict the question names, if any; for unresolved_period, the phrase it could not
    resolve; for campaign, the name as asked (matched against the customer's own campaigns)."""

    kind: str
    metrics: tuple[str, ...] = ()
    period: Period = Period()
    dimension: str = "channel"
    number: int | None = None
    topic: str = ""
    direction: str | None = None  # "up" / "down", as the question claims it moved
    baseline: str = "previous"  # what a "why" compares with: "previous" or "year_ago"
    note: str = ""  # how the question was read, when that is worth saying (a sentence)
    greeting: str = ""  # "hello" or "thanks" when the question opens with one
    calendars: tuple[Calendar, ...] = ()  # calendar periods named, in order
    channel: str = ""  # the one channel asked about, lower case
    split: bool = False  # a calendar answer broken down by `dimension`


@dataclass(frozen=True)
class Question:
    """A question with what every rule needs already read out of it."""

    text: str
    customer_id: str
    metrics: tuple[str, ...]
    period: Period
    note: str
    calendars: tuple[Calendar, ...]
    campaign: str
    channel: str


Rule = tuple[str, Callable[[Question], bool], Callable[[Question], Intent]]


def parse(question: str, customer_id: str = "") -> Intent:
    """Read a follow-up question; unknown when it is not one this parser understands.

    The first row of `RULES` whose test holds builds the intent: a new kind of question is a
    new row, placed above the rows it must win over.
    """
    text = " ".join(question.split())
    if not text or len(text) > MAX_QUESTION_CHARS or _INJECTION.search(text):
        return Intent("unknown")
    q = read(text, customer_id)
    return next(build(q) for _, test, build in RULES if test(q))


def read(text: str, customer_id: str = "") -> Question:
    """The slots every rule looks at: metrics, the week period, calendar periods, a named
    campaign (its phrase is blanked before periods are read: "Spring Sale" is no season)."""
    campaign = campaign_phrase(text)
    rest = text.replace(campaign, " ") if campaign else text
    period, note = find_period(rest)
    channel = _CHANNEL_NAME.search(text)
    name = _CHANNEL_ALIASES.get(channel[0].lower(), channel[0].lower()) if channel else ""
    return Question(
        text, customer_id, find_metrics(text), period, note, tuple(find_calendars(rest)), campaign, name
    )


def _has(pattern: re.Pattern[str]) -> Callable[[Question], bool]:
    return lambda q: bool(pattern.search(q.text))


def _other_customer(q: Question) -> bool:
    return any(m.upper() != q.customer_id.upper() for m in _CUSTOMER_ID.findall(q.text))


def _other_period(q: Question) -> str:
    """The period a question names other than the report week, as asked; "" when none."""
    if q.calendars:
        return next((c.text or c.problem for c in q.calendars if c.text or c.problem), "that period")
    if q.period.kind in ("previous", "year_ago", "ago") or (q.period.kind == "weeks" and q.period.count > 1):
        return {"previous": "the previous week", "year_ago": "the same week a year ago"}.get(
            q.period.kind, f"those {q.period.count} weeks" if q.period.kind == "weeks" else "that week"
        )
    return ""


def _unresolved(q: Question) -> bool:
    return any(c.problem for c in q.calendars)


def _compare(q: Question) -> bool:
    named = [c for c in q.calendars if c.kind]
    if len(named) >= 2:
        return True
    return bool(_COMPARE_WORD.search(q.text)) and bool(
        _WEEK_VS_WEEK.search(q.text)
        or _VS_LAST_MONTH.search(q.text)
        or (named and q.period.kind == "week")
        or q.period.kind == "weeks"
        or (_VS_LAST_YEAR.search(q.text) and not q.metrics)
    )


def _compare_intent(q: Question) -> Intent:
    metrics = q.metrics or HEADLINE_METRICS
    if len([c for c in q.calendars if c.kind]) >= 2:
        return Intent("compare", metrics, calendars=q.calendars, topic="calendars")
    if q.period.kind == "weeks" and not q.calendars:
        return Intent("compare", metrics, q.period, topic="weeks")
    if _WEEK_VS_WEEK.search(q.text):
        return Intent("compare", metrics, topic="week")
    if _VS_LAST_MONTH.search(q.text):
        return Intent("compare", metrics, topic="month_to_date")
    if q.calendars:
        return Intent("compare", metrics, calendars=q.calendars, topic="before")
    return Intent("compare", metrics, topic="year")


def _why_intent(q: Question) -> Intent:
    baseline = "year_ago" if _YEAR_AGO.search(q.text) else "previous"
    return Intent(
        "why", q.metrics or ("revenue",), q.period, direction=_direction(q.text), baseline=baseline,
        note=q.note, calendars=q.calendars,
    )  # fmt: skip


def _breakdown_intent(q: Question) -> Intent:
    dimension = "campaign" if re.search(r"campaign", q.text, re.IGNORECASE) else "channel"
    default = ("revenue",) if _BREAKDOWN.search(q.text) else CHANNEL_METRICS
    return Intent("breakdown", q.metrics or default, q.period, dimension=dimension, note=q.note)


def _calendar_intent(q: Question) -> Intent:
    split = bool(_BREAKDOWN.search(q.text))
    dimension = "campaign" if split and re.search(r"campaign", q.text, re.IGNORECASE) else "channel"
    return Intent(
        "calendar", q.metrics or HEADLINE_METRICS, calendars=q.calendars, dimension=dimension, split=split,
        channel=q.channel,
    )  # fmt: skip


def _benchmark_intent(q: Question) -> Intent:
    note = q.note or ("benchmarks cover all channels together" if q.channel else "")
    return Intent("benchmark", q.metrics, q.period, note=note)


def _greeting(q: Question) -> Intent:
    greeting = "hello" if _GREETING.search(q.text) else "thanks" if _THANKS.search(q.text) else ""
    return Intent("unknown", greeting=greeting)


RULES: tuple[Rule, ...] = (
    ("another customer's id", _other_customer, lambda q: Intent("other_customer")),
    ("a question in another language", lambda q: is_other_language(q.text), lambda q: Intent("other_language")),
    ("recommendation N", lambda q: recommendation_number(q.text) is not None,
     lambda q: Intent("recommendation", number=recommendation_number(q.text))),
    ("case studies", _has(_CASE_STUDY), lambda q: Intent("case_studies", topic=case_study_topic(q.text))),
    ("a named campaign", lambda q: bool(q.campaign),
     lambda q: Intent("campaign", q.metrics, calendars=q.calendars, topic=q.campaign)),
    # talking points are about the report week: "what should I tell them today?" is one
    ("talking points", lambda q: bool(_TALKING_POINTS.search(q.text)) and not any(c.kind for c in q.calendars),
     lambda q: Intent("talking_points")),
    ("a period no rule resolves", _unresolved,
     lambda q: Intent("unresolved_period", q.metrics, topic=next(c.problem for c in q.calendars if c.problem))),
    ("the recommendations", _has(_REC_WORD), lambda q: Intent("recommendation")),
    # the verdict is the report week's: never given as another period's
    ("account health for another period", lambda q: bool(_HEALTH.search(q.text)) and bool(_other_period(q)),
     lambda q: Intent("health_other_period", topic=_other_period(q))),
    # "why is it Watch?" claims a verdict; "is it at risk?" only asks
    ("account health", _has(_HEALTH),
     lambda q: Intent("health", topic=claimed_verdict(q.text) if _WHY.search(q.text) else "")),
    ("why below the benchmark: the gap", lambda q: bool(_WHY.search(q.text) and _BENCHMARK.search(q.text)),
     _benchmark_intent),
    ("two periods compared", _compare, _compare_intent),
    ("what happened to one channel", lambda q: bool(q.channel and (_WHY.search(q.text) or _COLLAPSE.search(q.text))
     and not q.calendars and not _BREAKDOWN.search(q.text)),
     lambda q: Intent("channel", q.metrics or ("revenue",), channel=q.channel)),
    ("why a metric moved", _has(_WHY), _why_intent),
    ("a calendar period", lambda q: bool(q.calendars) and not _BENCHMARK.search(q.text), _calendar_intent),
    ("the benchmark", _has(_BENCHMARK), _benchmark_intent),
    ("a breakdown", lambda q: bool(_BREAKDOWN.search(q.text) or (q.channel and (q.metrics or _SUMMARY.search(q.text)))),
     _breakdown_intent),
    ("a metric", lambda q: bool(q.metrics), lambda q: Intent("metric", q.metrics, q.period, note=q.note)),
    ("the headline metrics", _has(_SUMMARY), lambda q: Intent("metric", HEADLINE_METRICS, q.period, note=q.note)),
    ("anything else", lambda q: True, _greeting),
)  # fmt: skip


def campaign_phrase(text: str) -> str:
    """The campaign a question names ("the Holiday Gift Guide campaign", "campaign “Winback”"),
    as written; "" when it names none. Matched later against the customer's own campaigns."""
    for pattern in _CAMPAIGN_NAMES:
        if match := pattern.search(text):
            name = re.sub(r"^(?:the|our|their|its|a)\s+", "", match.group(1).strip(" \"'“”‘’"), flags=re.I)
            if name and not _NOT_A_NAME.fullmatch(name):
                return name
    return ""


def is_other_language(text: str) -> bool:
    """Whether the question is written in a language other than English."""
    if _OTHER_SCRIPT.search(text):
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(w in _FOREIGN_WORDS for w in words) >= 2 or any(w in _FOREIGN_ONLY for w in words)


def claimed_verdict(text: str) -> str:
    """The health verdict a question names ("why is health Watch?"), lower case; "" if none."""
    return next((name for name, pattern in _VERDICTS if re.search(pattern, text, re.IGNORECASE)), "")


def find_metrics(text: str) -> tuple[str, ...]:
    """Metric keys in the order the question names them."""
    found: list[tuple[int, str]] = []
    for key, pattern in METRIC_PATTERNS:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            found.append((match.start(), key))
        text = re.sub(pattern, lambda m: " " * len(m.group(0)), text, flags=re.IGNORECASE)
    keys: list[str] = []
    for _, key in sorted(found):
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def find_period(text: str) -> tuple[Period, str]:
    """The period a question asks about, and a note when the question was read loosely."""
    if match := _N_WEEKS.search(text) or _N_WEEKS_LOOSE.search(text):
        return _weeks(_count(match.group(1)))
    if match := _WEEKS_AGO.search(text):
        return _weeks_ago(1 if match.group(1) else _count(match.group(2)))
    if _FEW_WEEKS.search(text):
        return Period("weeks", 4), "period read as the last 4 weeks"
    if _MONTH.search(text):
        return Period("weeks", 4), "period read as the last 4 weeks"
    if _QUARTER.search(text):
        return Period("weeks", 13), "period read as the last 13 weeks"
    if _TREND.search(text):
        return Period("weeks", TREND_WEEKS), f"period read as the last {TREND_WEEKS} weeks"
    if _PAST_YEAR.search(text):
        return Period("weeks", MAX_WEEKS), f"period read as the last {MAX_WEEKS} weeks"
    if _COMPARED.search(text):
        return Period(), ""  # "vs last year": the report week, whose answer shows the comparison
    if _YEAR_AGO.search(text):
        return Period("year_ago"), ""
    if _PREVIOUS.search(text):
        return Period("previous"), ""
    return Period(), ""


def _weeks(count: int) -> tuple[Period, str]:
    if count > MAX_WEEKS:
        return Period("weeks", MAX_WEEKS), f"period capped at {MAX_WEEKS} weeks"
    if count <= 1:
        return Period(), ""
    return Period("weeks", count), ""


def _weeks_ago(count: int) -> tuple[Period, str]:
    # Asked on a Monday, "a week ago" is the report week and "two weeks ago" the one before.
    if count <= 1:
        return Period(), ""
    if count == 2:
        return Period("previous"), ""
    if count > MAX_WEEKS + 1:
        return Period("year_ago"), f"period capped at {MAX_WEEKS + 1} weeks ago"
    return Period("ago", count), ""


def _count(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def recommendation_number(text: str) -> int | None:
    """N in "recommendation N", "#N", "the Nth recommendation"; None when none is named."""
    for pattern in _REC_NUMBERS:
        if match := pattern.search(text):
            token = match.group(1).lower()
            return _ORDINALS[token] if token in _ORDINALS else _count(token)
    return None


def case_study_topic(text: str) -> str:
    """What the case studies should be about: the words after "case studies about", or
    the question without its filler words."""
    match = _TOPIC_AFTER.search(text)
    topic = match.group(1) if match else _TOPIC_FILLER.sub(" ", text)
    return " ".join(re.sub(r"[^\w\s&'-]", " ", topic).split())


def _direction(text: str) -> str | None:
    down, up = _DOWN.search(text), _UP.search(text)
    if down and not up:
        return "down"
    if up and not down:
        return "up"
    return None
