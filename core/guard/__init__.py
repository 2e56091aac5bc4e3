"""The guard every agent answer passes before it is shown, posted or stored.

An answer is allowed only when everything it reports touches the report's own subject:

    sql.py       every statement it ran reads only allowed tables, and every table that
                 holds subjects' rows only the rows of this subject
    mentions.py  its text, its result sets and its charts name no other known subject (id or
                 name); a chart is read whole: every list of data rows and every string in
                 its spec, wherever the renderer may draw it from

A report kind declares what its answers may touch (`Declaration`: the subject column, the
tables holding subjects' rows, the other tables it may read); the engine builds one `Scope`
per answer from that declaration, the subject's id and the known subjects (`Subjects`,
built once per run). `check(answer, scope)` returns a `Verdict`; only `Verdict.ok` answers
go on. Verdicts name a rule and say why without quoting any data.

An answer streamed to a person while it is made is checked piece by piece as it comes
(stream.py: `GuardGate`, with `check_sql`, `check_table` and `check_text` below), so that
the person sees only text every check so far has cleared.

A chart is read twice: its spec before anything is shown (`check`), then, by a program that
draws charts, the words it shows once drawn (`check_drawn`), since an expression can spell
a name no string of its spec holds (`'Meri' + 'dian'`).

What it cannot see: figures the agent computed or remembered without SQL, data paraphrased
in the text without the subject's id or name (or drawn as shapes, or split within a word
across a chart's texts), subjects not in the known list, and SQL the service did not report
in its event stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.agent.base import Answer, ResultTable
from core.charts import Chart, ChartWords, spec_strings, spec_tables
from core.guard.mentions import Subjects
from core.guard.sql import Declaration, check_statement

__all__ = [
    "RULES",
    "Declaration",
    "Scope",
    "Subjects",
    "Verdict",
    "check",
    "check_drawn",
    "check_sql",
    "check_table",
    "check_text",
]

# Every rule a verdict may name, for documentation and the benchmark's tally.
RULES = (
    "unparseable_sql",  # a statement sqlglot cannot parse: nobody can say what it read
    "forbidden_statement",  # not a query: DML, DDL, SHOW, USE, ...
    "forbidden_table",  # a table outside the allowed set (product tables, INFORMATION_SCHEMA, ...)
    "foreign_subject",  # SQL that names another subject's id
    "unscoped_table",  # a subject table read without a filter on this subject alone
    "result_set_other_subject",  # a result set holding another subject's id or name
    "text_names_other_subject",  # answer text naming another subject's id or name
    "chart_other_subject",  # a chart holding another subject anywhere: any data rows, any string
)


@dataclass(frozen=True)
class Scope:
    """What one answer may touch: the kind's declaration, the subject, the other known subjects."""

    declaration: Declaration
    subject_id: str
    subjects: Subjects

    @property
    def subject_column(self) -> str:
        return self.declaration.subject_column

    @property
    def scoped_tables(self) -> frozenset[str]:
        return self.declaration.scoped_tables

    @property
    def allowed_tables(self) -> frozenset[str]:
        return self.declaration.allowed_tables


@dataclass(frozen=True)
class Verdict:
    """`rule` is None when the answer may be shown; else the rule it broke and why (no data)."""

    rule: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.rule is None


ALLOWED = Verdict()


def check(answer: Answer, scope: Scope) -> Verdict:
    """The verdict on `answer`: every statement, then every result set, the text, the charts."""
    for statement in answer.sql:
        verdict = check_sql(statement, scope)
        if not verdict.ok:
            return verdict
    verdict = check_table(answer.tables, scope)
    if not verdict.ok:
        return verdict
    verdict = check_text(answer.text, scope)
    if not verdict.ok:
        return verdict
    if _charts_name_others(answer.charts, scope):
        return Verdict("chart_other_subject", "a chart shows or names another subject")
    return ALLOWED


def check_drawn(
    charts: Iterable[Chart], scope: Scope, words: ChartWords
) -> tuple[Verdict, tuple[Chart, ...]]:
    """The verdict on what `charts` show once drawn (`words` draws them), and the charts that
    may be shown: a chart that cannot be drawn is left out (it would not be shown either);
    one whose drawn words name another subject withholds the answer, as its spec would have.
    The words are read together too, so a name spread over neighbouring texts is seen."""
    shown = []
    for chart in charts:
        drawn = words(chart)
        if drawn is None:
            continue
        if scope.subjects.names_other("\n".join(drawn), scope.subject_id):
            return Verdict("chart_other_subject", "a chart shows another subject once drawn"), ()
        shown.append(chart)
    return ALLOWED, tuple(shown)


def check_sql(statement: str, scope: Scope) -> Verdict:
    """The verdict on one statement the agent ran."""
    refusal = check_statement(statement, scope.declaration, scope.subject_id)
    return ALLOWED if refusal is None else Verdict(*refusal)


def check_table(tables: Iterable[ResultTable], scope: Scope) -> Verdict:
    """The verdict on result sets the agent carried."""
    if _tables_name_others(tables, scope):
        return Verdict("result_set_other_subject", "a result set holds another subject's rows")
    return ALLOWED


def check_text(text: str, scope: Scope) -> Verdict:
    """The verdict on an answer's text (or all of it that is known so far)."""
    if scope.subjects.names_other(text, scope.subject_id):
        return Verdict("text_names_other_subject", "the answer names another subject")
    return ALLOWED


def _charts_name_others(charts: Iterable[Chart], scope: Scope) -> bool:
    """Every list of rows anywhere in a chart's spec (any layer's data, every `datasets`
    entry) is a result set too, and every string in it is text (titles, subtitles, axis and
    legend titles, a text mark's literal, expressions, descriptions), as are its title and
    alt text: whatever the renderer may draw is read."""
    for chart in charts:
        if _tables_name_others(map(_as_table, spec_tables(chart.spec)), scope):
            return True
        words = spec_strings(chart.spec) | {chart.title, chart.alt_text}
        if any(scope.subjects.names_other(w, scope.subject_id) for w in words):
            return True
    return False


def _as_table(rows: list[object]) -> ResultTable:
    """Inline rows as a result set (rows that are not objects hold no column: their strings
    are read as text)."""
    objects = [r for r in rows if isinstance(r, dict)]
    columns = tuple(dict.fromkeys(str(k) for r in objects for k in r))
    return ResultTable(columns, tuple(tuple(r.get(c) for c in columns) for r in objects))


def _tables_name_others(tables: Iterable[ResultTable], scope: Scope) -> bool:
    column = scope.subject_column.lower()
    for table in tables:
        keyed = [i for i, name in enumerate(table.columns) if str(name).lower() == column]
        for row in table.rows:
            if any(row[i] is not None and str(row[i]) != scope.subject_id for i in keyed if i < len(row)):
                return True
            cells = " | ".join(str(v) for v in row if isinstance(v, str))
            if cells and scope.subjects.names_other(cells, scope.subject_id):
                return True
    return False
