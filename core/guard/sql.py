"""Is a statement scoped to one subject? Parsed with sqlglot (Snowflake dialect), refused when unsure.

A statement passes when it is a query (no DML, DDL or commands), reads only allowed tables
(bare, schema- or database-qualified names of the declared schema, any case, quoted or
not; FLATTEN is the only table function), names no other subject's id in any literal,
and, in every query block (CTEs, subqueries, derived tables, each branch of a UNION),
every table holding subjects' rows is *pinned*: its subject column is restricted to this
subject alone for every row the block reads.

A column is pinned by a predicate that must hold for every row: an AND-conjunct of WHERE
or of an inner join's ON (`col = 'id'`, `col IN ('id')`, or an OR whose every branch pins
it), an equality with a pinned column in such a conjunct, or, for the table a LEFT JOIN
adds, its own ON clause. A derived table or CTE whose block pins a column it selects
passes that pin on under its output name. Nothing else pins: HAVING, QUALIFY, USING,
NATURAL, filters outside an unpinned derived table, correlation with an outer block, and
functions of the column (UPPER(customer_id) = ...) all leave the table unpinned, and the
statement is refused. Conservative by design: a refused benign answer costs a question
asked again; a passed leak costs another customer's data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

# (rule, reason); None when the statement passes.
Refusal = tuple[str, str] | None
Column = tuple[str, str]  # (source alias, column name), lower-case


@dataclass(frozen=True)
class Declaration:
    """What a report kind's answers may read (design §11): declared once per kind.

    `scoped_tables` hold subjects' rows (each has `subject_column`); `allowed_tables` are
    every table an answer may read, the scoped ones included; all live in `database.schema`.
    `id_pattern` matches a subject id (to spot other subjects' ids in SQL and text).
    """

    subject_column: str
    scoped_tables: frozenset[str]
    allowed_tables: frozenset[str]
    database: str
    schema: str
    id_pattern: str

    def __post_init__(self) -> None:
        lower = {
            "subject_column": self.subject_column.lower(),
            "scoped_tables": frozenset(t.lower() for t in self.scoped_tables),
            "allowed_tables": frozenset(t.lower() for t in self.allowed_tables | self.scoped_tables),
            "database": self.database.lower(),
            "schema": self.schema.lower(),
        }
        for name, value in lower.items():
            object.__setattr__(self, name, value)


def check_statement(sql: str, declaration: Declaration, subject_id: str) -> Refusal:
    """Why `sql` may not be shown for `subject_id` (a rule and a reason), or None."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="snowflake") if s is not None]
    except SqlglotError:
        return "unparseable_sql", "a statement the agent ran could not be parsed"
    if not statements:
        return "unparseable_sql", "a statement the agent ran was empty"
    for statement in statements:
        refusal = _check_one(statement, declaration, subject_id)
        if refusal is not None:
            return refusal
    return None


def _check_one(statement: exp.Expr, declaration: Declaration, subject_id: str) -> Refusal:
    if not isinstance(statement, exp.Query) or any(statement.find_all(*_NOT_QUERIES)):
        return "forbidden_statement", "the agent ran a statement that is not a query"
    foreign = _foreign_ids(statement, declaration.id_pattern, subject_id)
    if foreign:
        return "foreign_subject", "a statement names another subject's id"
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if not _is_cte_reference(table, ctes) and not _allowed(table, declaration):
            return "forbidden_table", f"a statement reads {_shown(table)}, which answers may not read"
    try:
        scopes = traverse_scope(statement)
    except SqlglotError:
        return "unparseable_sql", "a statement's structure could not be analysed"
    return _Analysis(declaration, subject_id).run(scopes)


# Statement kinds that change or describe the account rather than read data.
_NOT_QUERIES: tuple[type[exp.Expr], ...] = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
    exp.Show, exp.Use, exp.Set, exp.Copy, exp.Grant, exp.TruncateTable,
)  # fmt: skip


def _foreign_ids(statement: exp.Expr, id_pattern: str, subject_id: str) -> bool:
    pattern = re.compile(rf"\b(?:{id_pattern})\b", re.IGNORECASE)
    own = subject_id.upper()
    for literal in statement.find_all(exp.Literal):
        if literal.is_string and any(m.group(0).upper() != own for m in pattern.finditer(literal.this)):
            return True
    return False


def _is_cte_reference(table: exp.Table, ctes: set[str]) -> bool:
    return not table.db and not table.catalog and table.name.lower() in ctes


def _allowed(table: exp.Table, declaration: Declaration) -> bool:
    if not isinstance(table.this, exp.Identifier):
        return False  # a stage (@stage), a table function other than FLATTEN, IDENTIFIER(...)
    return (
        table.name.lower() in declaration.allowed_tables
        and table.db.lower() in ("", declaration.schema)
        and table.catalog.lower() in ("", declaration.database)
    )


def _shown(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p) or table.sql(dialect="snowflake")


@dataclass
class _Analysis:
    """Walks a statement's query blocks, innermost first, pinning columns block by block."""

    declaration: Declaration
    subject_id: str
    # The output columns each analysed block pins, by block, for the blocks that read it.
    outputs: dict[int, frozenset[str]] = field(default_factory=dict)

    def run(self, scopes: Iterable[Scope]) -> Refusal:
        for scope in scopes:
            refusal = self._block(scope)
            if refusal is not None:
                return refusal
        return None

    def _block(self, scope: Scope) -> Refusal:
        node = scope.expression
        if isinstance(node, exp.SetOperation):
            branches = [self.outputs.get(id(s), frozenset()) for s in scope.set_operation_scopes]
            self.outputs[id(scope)] = frozenset.intersection(*branches) if branches else frozenset()
            return None
        if isinstance(node, exp.Values):
            return None  # literal rows
        if not isinstance(node, exp.Select):
            return self._table_function(scope)
        sources = {name.lower(): source for name, (_, source) in scope.selected_sources.items()}
        block = _Block(self, scope, sources)
        pinned = block.pinned()
        for alias, source in sources.items():
            if not isinstance(source, exp.Table) or source.name.lower() not in self.declaration.scoped_tables:
                continue
            if (alias, self.declaration.subject_column) not in pinned:
                return (
                    "unscoped_table",
                    f"{source.name} is read without restricting {self.declaration.subject_column} "
                    "to this subject alone",
                )
        self.outputs[id(scope)] = block.outputs(pinned)
        return None

    @staticmethod
    def _table_function(scope: Scope) -> Refusal:
        function = (
            scope.expression.this if isinstance(scope.expression, exp.Lateral | exp.TableFromRows) else None
        )
        if isinstance(function, exp.Explode):  # FLATTEN: rows of a value already read
            return None
        return "forbidden_table", "a statement reads a table function other than FLATTEN"


@dataclass
class _Block:
    """One SELECT block: its sources and the predicates that hold for every row it reads."""

    analysis: _Analysis
    scope: Scope
    sources: dict[str, exp.Table | Scope]

    def pinned(self) -> set[Column]:
        """The (source, column) pairs restricted to the subject alone."""
        select = self.scope.expression
        pinned: set[Column] = set()
        equal: list[tuple[Column, Column, bool]] = []  # (a, b, both ways?)
        for alias, source in self.sources.items():
            if isinstance(source, Scope):
                pinned |= {(alias, c) for c in self.analysis.outputs.get(id(source), frozenset())}
        where = select.args.get("where")
        if where is not None:
            self._conditions(where.this, pinned, equal, only=None)
        for join in select.args.get("joins") or ():
            self._join(join, pinned, equal)
        return _closure(pinned, equal)

    def _join(self, join: exp.Join, pinned: set[Column], equal: list[tuple[Column, Column, bool]]) -> None:
        on = join.args.get("on")
        if on is None or join.args.get("using") or join.method:
            return  # CROSS, comma, USING, NATURAL, ASOF: no predicate this guard relies on
        side = (join.side or "").upper()
        if side == "":
            self._conditions(on, pinned, equal, only=None)
        elif side == "LEFT":  # only the joined table's rows must satisfy ON
            self._conditions(on, pinned, equal, only=join.this.alias_or_name.lower())

    def _conditions(
        self,
        condition: exp.Expr,
        pinned: set[Column],
        equal: list[tuple[Column, Column, bool]],
        only: str | None,
    ) -> None:
        for conjunct in _conjuncts(condition):
            pinned |= {c for c in self._pins(conjunct) if only is None or c[0] == only}
            if isinstance(conjunct, exp.EQ) and _both_columns(conjunct):
                a, b = self._column(conjunct.left), self._column(conjunct.right)
                if a and b:
                    if only is None:
                        equal.append((a, b, True))
                    elif only in (a[0], b[0]):
                        equal.append((b, a, False) if a[0] == only else (a, b, False))

    def _pins(self, condition: exp.Expr) -> set[Column]:
        """The columns `condition` restricts to the subject alone (for rows where it is true)."""
        condition = _unwrap(condition)
        if isinstance(condition, exp.And):
            return self._pins(condition.left) | self._pins(condition.right)
        if isinstance(condition, exp.Or):
            return self._pins(condition.left) & self._pins(condition.right)
        if isinstance(condition, exp.EQ):
            column, literal = _column_and_literal(condition.left, condition.right)
            return self._pinned_by(column, [literal])
        if isinstance(condition, exp.In) and not condition.args.get("query"):
            values = condition.expressions
            return self._pinned_by(condition.this, values) if values else set()
        return set()

    def _pinned_by(self, column: exp.Expr | None, values: list[exp.Expr | None]) -> set[Column]:
        subject = self.analysis.subject_id
        values = [v.this if isinstance(v, exp.Cast) else v for v in values]  # 'CUST_1'::VARCHAR
        if not all(isinstance(v, exp.Literal) and v.is_string and v.this == subject for v in values):
            return set()
        resolved = self._column(column)
        return {resolved} if resolved else set()

    def _column(self, node: exp.Expr | None) -> Column | None:
        """(source, column) for a column reference that resolves to one source of this block."""
        if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
            return None
        name, qualifier = node.name.lower(), node.table.lower()
        if qualifier:
            return (qualifier, name) if qualifier in self.sources else None
        holders = [alias for alias, source in self.sources.items() if self._may_have(source, name)]
        return (holders[0], name) if len(holders) == 1 else None

    def outputs(self, pinned: set[Column]) -> frozenset[str]:
        """The names under which this block selects a pinned column as is (aliased or not)."""
        names = set()
        for projection in self.scope.expression.expressions:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if self._column(inner) in pinned:
                names.add(projection.alias_or_name.lower())
        return frozenset(names)

    def _may_have(self, source: exp.Table | Scope, column: str) -> bool:
        """Whether an unqualified `column` may come from `source`: only what is known rules one out."""
        if column != self.analysis.declaration.subject_column:
            return True
        if isinstance(source, exp.Table):
            return source.name.lower() in self.analysis.declaration.scoped_tables
        return not isinstance(source.expression, exp.Lateral | exp.TableFromRows)  # FLATTEN's columns


def _closure(pinned: set[Column], equal: list[tuple[Column, Column, bool]]) -> set[Column]:
    """Pins spread along equalities (both ways, or from the first column to the second)."""
    changed = True
    while changed:
        changed = False
        for a, b, both in equal:
            for source, target in ((a, b), (b, a)) if both else ((a, b),):
                if source in pinned and target not in pinned:
                    pinned.add(target)
                    changed = True
    return pinned


def _conjuncts(condition: exp.Expr) -> Iterator[exp.Expr]:
    condition = _unwrap(condition)
    if isinstance(condition, exp.And):
        yield from _conjuncts(condition.left)
        yield from _conjuncts(condition.right)
    else:
        yield condition


def _unwrap(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _both_columns(eq: exp.EQ) -> bool:
    return isinstance(eq.left, exp.Column) and isinstance(eq.right, exp.Column)


def _column_and_literal(left: exp.Expr, right: exp.Expr) -> tuple[exp.Expr | None, exp.Expr | None]:
    if isinstance(left, exp.Column) and isinstance(right, exp.Literal | exp.Cast):
        return left, right
    if isinstance(right, exp.Column) and isinstance(left, exp.Literal | exp.Cast):
        return right, left
    return None, None
