"""Case-insensitive uniqueness exactly as SQLite's ``COLLATE NOCASE``: ASCII letters only.

SQLite's NOCASE folds A-Z and nothing else, so 'ÉCOLE' and 'école' are two
keywords there. PostgreSQL gets a unique index on the ASCII-folded value, which
is exactly as strict (never stricter: the target must accept every file SQLite
accepted) and does not depend on the database's locale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import TEXT, Column, Dialect, Index, MetaData, Table, Text, UniqueConstraint, func
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from .types import AUTOINCREMENT, Key

ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ASCII_LOWER = ASCII_UPPER.lower()


class NoCaseText(TypeDecorator[str]):
    """Text compared ASCII-case-insensitively: ``COLLATE NOCASE`` on SQLite."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return Text(collation="NOCASE")
        return TEXT()


def ascii_fold(expression: Any) -> ColumnElement[str]:
    """``translate(expr, 'A..Z', 'a..z')``: NOCASE folding, in SQL, on any dialect."""
    return func.translate(expression, ASCII_UPPER, ASCII_LOWER)


def nocase_unique(table: Table, column: str) -> None:
    """Make *column* unique ignoring ASCII case, on both dialects."""
    col = table.c[column]
    table.append_constraint(
        UniqueConstraint(col, name=f"uq_{table.name}_{column}").ddl_if(dialect="sqlite")
    )
    Index(f"uq_{table.name}_{column}_nocase", ascii_fold(col), unique=True).ddl_if(
        dialect="postgresql"
    )


def keywords_table(metadata: MetaData, sync: list[Column]) -> Table:
    """A database's ``keywords`` table: each keyword once, ignoring ASCII case (as SQLite's NOCASE).

    *sync* is the database's own set of sync columns.
    """
    table = Table(
        "keywords",
        metadata,
        Column("id", Key, primary_key=True),
        Column("keyword", NoCaseText, nullable=False),
        *sync,
        **AUTOINCREMENT,
    )
    nocase_unique(table, "keyword")
    return table
