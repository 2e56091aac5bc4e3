"""What a follow-up question asks: a small keyword grammar, no model.

`parse` names the kind of question (a metric for a period, a breakdown, the benchmark, why
a metric moved, case studies, a recommendation) and fills its slots. Every slot holds a
value from a fixed list (metric keys, period kinds, "channel" or "campaign"), so no text of
the question can reach SQL; the only free text, a case-study topic, goes to the in-memory
search index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_WEEKS = 52
MAX_QUESTION_CHARS = 1000  # longer text is not a question this parser can answer

# Most specific first: a matched span is blanked out so "open rate" is not also "opens".
METRIC_PATTERNS: tuple[tuple[str, str], ...] = (
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
    r"|\b(?:over|during|throughout|across)\s+the\s+last\s+(?:year|12\s+months|twelve\s+months)\b"
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
    r"|\bwhy\s+(?:is\s+)?(?:the\s+)?health\b|\bon\s+watch\b|\bwhy\s+(?:is\s+)?(?:it|this|the\s+account)\s+watch\b"
)
_VERDICTS = (("at risk", r"\bat[\s-]+risk\b"), ("watch", r"\bwatch\b"), ("healthy", r"\bhealthy\b"))
_DOWN = _rx(
    r"\b(?:drop|dropped|fall|fell|falling|decline|declined|down|decrease|decreased|lower|dip|worse)\b"
)
_UP = _rx(r"\b(?:rise|rose|risen|increase|increased|up|grow|grew|growth|jump|jumped|spike|higher|better)\b")


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
    recommendation, health, other_customer, unknown. For health, `topic` is the verdict the
    question names, if any."""

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


def parse(question: str, customer_id: str = "") -> Intent:
    """Read a follow-up question; unknown when it is not one this parser understands."""
    text = " ".join(question.split())
    if not text or len(text) > MAX_QUESTION_CHARS or _INJECTION.search(text):
        return Intent("unknown")
    if any(m.upper() != customer_id.upper() for m in _CUSTOMER_ID.findall(text)):
        return Intent("other_customer")
    metrics = find_metrics(text)
    period, note = find_period(text)
    number = recommendation_number(text)
    if number is not None:
        return Intent("recommendation", number=number)
    if _CASE_STUDY.search(text):
        return Intent("case_studies", topic=case_study_topic(text))
    if _REC_WORD.search(text):
        return Intent("recommendation")
    if _HEALTH.search(text):
        # "why is it Watch?" claims a verdict; "is it at risk?" only asks
        return Intent("health", topic=claimed_verdict(text) if _WHY.search(text) else "")
    if _WHY.search(text):
        baseline = "year_ago" if _YEAR_AGO.search(text) else "previous"
        direction = _direction(text)
        return Intent(
            "why", metrics or ("revenue",), period, direction=direction, baseline=baseline, note=note
        )
    one_channel = bool(_CHANNEL_NAME.search(text))
    if _BENCHMARK.search(text):
        note = note or ("benchmarks cover all channels together" if one_channel else "")
        return Intent("benchmark", metrics, period, note=note)
    if _BREAKDOWN.search(text) or (one_channel and (metrics or _SUMMARY.search(text))):
        dimension = "campaign" if re.search(r"campaign", text, re.IGNORECASE) else "channel"
        default = ("revenue",) if _BREAKDOWN.search(text) else CHANNEL_METRICS
        return Intent("breakdown", metrics or default, period, dimension=dimension, note=note)
    if metrics:
        return Intent("metric", metrics, period, note=note)
    if _SUMMARY.search(text):
        return Intent("metric", HEADLINE_METRICS, period, note=note)
    greeting = "hello" if _GREETING.search(text) else "thanks" if _THANKS.search(text) else ""
    return Intent("unknown", greeting=greeting)


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
