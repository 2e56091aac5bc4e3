"""Case-study search over `case_studies`: text relevance (BM25), same-industry stories first.

A same-industry study that matches the topic (scores at least `TOPIC_MATCH_SHARE` of the
best text match) ranks above other industries' closer matches; otherwise an industry boost.

The table is small (tens to hundreds of rows), so it is read once per index and ranked in
memory; `SQL` is the statement that read it, reported with every answer that cites one.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS

SQL = (
    "SELECT case_study_id, title, industry, challenge, solution, results, content "
    f"FROM {ANALYTICS}.case_studies"
)
MEMO_SIZE = 10_000  # distinct searches remembered per index
INDUSTRY_BOOST = 1.5  # a same-industry story outranks a slightly closer text match
# A same-industry study scoring at least this share of the best text match is on the topic:
# a manufacturer is better served by a manufacturer's click-through story than by a closer
# worded one from a tour operator.
TOPIC_MATCH_SHARE = 0.5
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from in is it of on or the to with this that was were".split()
)


@dataclass(frozen=True)
class CaseStudy:
    case_study_id: str
    title: str
    industry: str | None
    challenge: str
    solution: str
    results: str


@dataclass(frozen=True)
class Hit:
    study: CaseStudy
    score: float


def tokens(text: str) -> list[str]:
    words = (w for w in _WORD.findall(text.lower()) if w not in _STOP)
    return [_stem(w) for w in words]


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class CaseStudyIndex:
    """BM25 over title (counted twice), challenge, solution and results."""

    def __init__(self, studies: Iterable[CaseStudy]) -> None:
        self.studies = list(studies)
        self._docs = [
            Counter(tokens(f"{s.title} {s.title} {s.challenge} {s.solution} {s.results}"))
            for s in self.studies
        ]
        self._lengths = [sum(d.values()) for d in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        # A run asks the same few (query, industry) pairs thousands of times; the index is immutable.
        self._memo: dict[tuple[str, str | None, int, frozenset[str]], list[Hit]] = {}
        self._memo_lock = threading.Lock()

    @classmethod
    def load(cls, warehouse: Warehouse) -> CaseStudyIndex:
        rows = warehouse.query(SQL)
        return cls(
            CaseStudy(
                r["case_study_id"], r["title"], r["industry"],
                r["challenge"] or "", r["solution"] or "", r["results"] or "",
            )
            for r in rows
        )  # fmt: skip

    def search(
        self, query: str, industry: str | None = None, limit: int = 3, exclude: Iterable[str] = ()
    ) -> list[Hit]:
        """The best matches for `query`, same-industry stories boosted; no match scores 0."""
        key = (query, industry, limit, frozenset(exclude))
        with self._memo_lock:
            found = self._memo.get(key)
        if found is None:
            found = self._rank(query, industry, limit, key[3])
            with self._memo_lock:
                if len(self._memo) < MEMO_SIZE:
                    self._memo[key] = found
        return list(found)

    def _rank(self, query: str, industry: str | None, limit: int, skip: frozenset[str]) -> list[Hit]:
        # Sorted: a float sum in set order (which varies with the string hash seed) can break
        # a tie one way in one process and the other way in the next.
        terms = sorted(set(tokens(query)))
        scored = [
            (study, self._bm25(terms, doc, length))
            for study, doc, length in zip(self.studies, self._docs, self._lengths, strict=True)
            if study.case_study_id not in skip
        ]
        scored = [(study, score) for study, score in scored if score > 0]
        best = max((score for _, score in scored), default=0.0)
        ranked = []
        for study, score in scored:
            same = bool(industry and study.industry and study.industry.lower() == industry.lower())
            on_topic = same and score >= TOPIC_MATCH_SHARE * best
            ranked.append((not on_topic, Hit(study, score * INDUSTRY_BOOST if same else score)))
        ranked.sort(key=lambda r: (r[0], -r[1].score, r[1].study.case_study_id))
        return [hit for _, hit in ranked[:limit]]

    def _bm25(
        self, terms: list[str], doc: Counter[str], length: int, k1: float = 1.2, b: float = 0.75
    ) -> float:
        score = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                score += self._idf[term] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / self._avg))
        return score


# The cited studies' titles, the ids bound as one JSON array (as core.kinds.coaching.facts binds its reps).
TITLES_SQL = (
    f"SELECT case_study_id, title FROM {ANALYTICS}.case_studies "
    "WHERE case_study_id IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)"
)


def case_study_titles(warehouse: Warehouse, ids: Iterable[str]) -> dict[str, str]:
    """Case-study id -> title for the ids an answer cited (`Answer.sources`); ids that are not
    case studies (a coaching answer's call ids, say) are simply absent."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = warehouse.query(TITLES_SQL, [json.dumps(wanted)])
    return {str(r["case_study_id"]): str(r["title"]) for r in rows}
