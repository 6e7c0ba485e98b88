"""PostgreSQL full-text search: an index's search vectors matched and ranked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import REAL, Table, cast, func, literal, literal_column
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from ..schemas.spec import SearchIndex
from ..search import CompiledQuery
from .base import Boosts, TextMatch
from .pg_triggers import SEARCH_COLUMN

#: The search vector's title words only (the index labels title columns 'A').
_TITLE_VECTOR = f"ts_filter({SEARCH_COLUMN}, '{{a}}')"


class PostgresSearch:
    """:meth:`.base.DialectOps.text_match` on PostgreSQL: the stored vectors matched with ``@@``."""

    def text_match(
        self, table: Table, index: SearchIndex, query: CompiledQuery, boosts: Boosts
    ) -> TextMatch | None:
        if query.tsquery is None:
            return None
        # A cast, not to_tsquery(): the text-search parser must not split the words again.
        tsquery = cast(query.tsquery, TSQUERY)
        vector: ColumnElement[Any] = literal_column(SEARCH_COLUMN)
        title_hit = literal_column(_TITLE_VECTOR).op("@@")(tsquery) if index.ranks_titles else None
        rank = ts_rank(vector, tsquery, index, boosts)
        return TextMatch(table, vector.op("@@")(tsquery), rank, title_hit)


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
