"""Rows become records: each field from its column, ``int`` and ``bool`` fields coerced."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, make_dataclass
from typing import Any

from sqlalchemy import create_engine, text

from tldw_Server_API.app.core.DB_Management.stores._common import record_from_row


@dataclass(frozen=True)
class Flagged:  # annotations postponed: field types are strings
    id: int
    done: bool
    label: str | None


def one_row(sql: str) -> Any:
    engine = create_engine("sqlite://", module=sqlite3)
    with engine.connect() as conn:
        return conn.execute(text(sql)).one()


def test_sqlite_flags_become_bools_under_postponed_annotations() -> None:
    record = record_from_row(Flagged, one_row("SELECT 7 AS id, 1 AS done, NULL AS label"))
    assert record == Flagged(id=7, done=True, label=None)
    assert type(record.done) is bool


def test_fields_declared_with_classes_are_coerced_too() -> None:
    declared = make_dataclass("Declared", [("id", int), ("done", bool)])
    record = record_from_row(declared, one_row("SELECT 7 AS id, 0 AS done"))
    assert (record.id, record.done) == (7, False)
    assert type(record.done) is bool


def test_given_values_stand_in_for_columns_the_row_names_otherwise() -> None:
    row = one_row("SELECT 1 AS id, 0 AS done, 'from the row' AS caption")
    record = record_from_row(Flagged, row, label=row.caption)
    assert record.label == "from the row"
