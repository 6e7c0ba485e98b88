"""PostgreSQL full-text search: the ranked, title-first SELECT over an index's search vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import REAL, Select, Table, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from ..schemas.spec import SearchIndex
from ..schemas.types import is_false
from ..search import compile_query, restriction
from .pg_triggers import SEARCH_COLUMN

#: The search vector's title words only (the index labels title columns 'A').
_TITLE_VECTOR = f"ts_filter({SEARCH_COLUMN}, '{{a}}')"


class PostgresSearch:
    """:meth:`.base.DialectOps.search` on PostgreSQL: the stored vectors matched with ``@@``."""

    def search(
        self,
        table: Table,
        index: SearchIndex,
        query_text: str,
        *,
        live_only: bool = True,
        columns: Sequence[str] | None = None,
        boosts: Mapping[str, float] | None = None,
    ) -> Select[Any] | None:
        _, weights = restriction(index.columns, columns)
        compiled = compile_query(query_text, weights=weights)
        if compiled.tsquery is None:
            return None
        # A cast, not to_tsquery(): the text-search parser must not split the words again.
        query = cast(compiled.tsquery, TSQUERY)
        vector: ColumnElement[Any] = literal_column(SEARCH_COLUMN)
        key = next(iter(table.primary_key.columns))
        ranks_titles = bool(index.title_columns) and len(index.title_columns) < len(index.columns)
        if ranks_titles:
            title_hit: ColumnElement[Any] = literal_column(_TITLE_VECTOR).op("@@")(query)
        else:
            title_hit = literal_column("true")
        rank = ts_rank(vector, query, index, boosts)
        stmt = (
            select(key.label("key"), title_hit.label("title_hit"), rank.label("rank"))
            .select_from(table)
            .where(vector.op("@@")(query))
        )
        if live_only and "deleted" in table.c:
            stmt = stmt.where(is_false(table.c.deleted))
        if live_only and "is_trash" in table.c:
            stmt = stmt.where(is_false(table.c.is_trash))
        # A constant title_hit cannot be sorted on (PostgreSQL refuses ORDER BY true).
        by_title = [title_hit.desc()] if ranks_titles else []
        return stmt.order_by(*by_title, rank.desc(), key)


#: ts_rank's default weight of each label, in its array order {D, C, B, A}.
_TS_RANK_WEIGHTS = {"D": 0.1, "C": 0.2, "B": 0.4, "A": 1.0}


def ts_rank(
    vector: ColumnElement[Any], query: Any, index: SearchIndex, boosts: Mapping[str, float] | None
) -> ColumnElement[Any]:
    """``ts_rank``; with *boosts*, each boosted column's label weighs *boost* times its default."""
    if not boosts:
        return func.ts_rank(vector, query)
    weights = dict(_TS_RANK_WEIGHTS)
    for column, label in index.columns:
        weights[label] = _TS_RANK_WEIGHTS[label] * float(boosts.get(column, 1.0))
    # PostgreSQL takes weights up to 1: scaling all of them alike keeps the order.
    top = max(weights.values())
    array = literal([weights[label] / top for label in "DCBA"], ARRAY(REAL))
    return func.ts_rank(cast(array, ARRAY(REAL)), vector, query)
