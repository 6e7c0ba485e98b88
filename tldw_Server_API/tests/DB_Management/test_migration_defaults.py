"""SQLite column defaults, of every form on every declared type, become valid PostgreSQL defaults.

Each (default, declared type) pair is declared in a real SQLite table, translated by
``--create-schema``'s DDL, created on a real PostgreSQL and used by an insert that relies on the
default. The PostgreSQL value must be what the migration would make of the value SQLite's default
stores; a default that cannot be translated faithfully is left out (the column gets NULL) and
says why.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.casts import (
    CastProblem,
    Policies,
    cast_for,
    family_of,
)
from tldw_Server_API.app.core.DB_Management.migration.defaults import (
    SPECIFIERS,
    ClockFormat,
    translate,
)
from tldw_Server_API.app.core.DB_Management.migration.generic import table_ddl, translate_default
from tldw_Server_API.app.core.DB_Management.migration.source import read_catalog

FORMS = [
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "(CURRENT_TIMESTAMP)",
    "(datetime('now'))",
    "(date('now'))",
    "(time('now'))",
    "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
    "(strftime('%s','now'))",
    "(strftime('%d/%m/%Y %H.%M', 'now'))",
    "(unixepoch())",
    "(datetime('now','localtime'))",
    "0",
    "1",
    "-1",
    "-2.5",
    "3.25",
    "'abc'",
    "''",
    "'O''Brien'",
    "X'00FF'",
    "X'48'",
    "TRUE",
    "FALSE",
    "NULL",
    "(1 + 2)",
    "('a' || 'b')",
    "'2024-01-02'",
    "'2024-01-02 03:04:05'",
    "'12:30:00'",
    "'{\"a\": 1}'",
    "(lower(hex(randomblob(4))))",
]
DECLARED = [
    "DATETIME",
    "TIMESTAMP",
    "DATE",
    "TIME",
    "TEXT",
    "VARCHAR(40)",
    "INTEGER",
    "REAL",
    "BOOLEAN",
    "NUMERIC",
    "BLOB",
    "JSON",
    "",
]
#: Clock defaults: SQLite's value and PostgreSQL's are taken a moment apart.
CLOCK = re.compile(r"CURRENT_|now|unixepoch", re.I)


@pytest.fixture(scope="module")
def pg(pg_target: PgTarget) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_target.conninfo(), autocommit=True) as conn:
        yield conn


def sqlite_table(tmp_path: Path, declared: str, default: str) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "defaults.db")
    # The row id keeps the table's only other column out of the way.
    conn.execute(f"CREATE TABLE t (rid INTEGER PRIMARY KEY, c {declared} DEFAULT {default})")
    return conn


def sqlite_value(conn: sqlite3.Connection) -> Any:
    conn.execute("INSERT INTO t (rid) VALUES (1)")
    return conn.execute("SELECT c FROM t").fetchone()[0]


def pg_value(pg: psycopg.Connection, statements: list[str]) -> Any:
    """Create the table (in a transaction rolled back) and insert a row relying on the default."""
    with pg.transaction(force_rollback=True):
        for statement in statements:
            pg.execute(statement)
        pg.execute("INSERT INTO defaults_case.t (rid) VALUES (1)")
        return pg.execute("SELECT c FROM defaults_case.t").fetchone()[0]


def close_enough(family: str, actual: Any, expected: Any, clock: bool) -> bool:
    """Equal, or for a clock default equal up to the moment between the two inserts."""
    if family == "json" and expected is not None:
        expected = json.loads(expected)  # the cast gives JSON text; psycopg reads a document
    if not clock or actual == expected:
        return actual == expected
    if family in ("timestamptz", "timestamp"):
        return abs(actual - expected) <= timedelta(seconds=3)
    if family == "date":
        return abs(actual - expected) <= timedelta(days=1)
    if family in ("bigint", "float", "numeric"):
        return abs(Decimal(str(actual)) - Decimal(str(expected))) <= 3
    # text: the same shape (digits may have moved on)
    return re.sub(r"\d", "9", str(actual)) == re.sub(r"\d", "9", str(expected))


@pytest.mark.parametrize("declared", DECLARED)
@pytest.mark.parametrize("default", FORMS)
def test_every_default_gives_a_valid_default_meaning_what_sqlite_meant(
    default: str, declared: str, tmp_path: Path, pg: psycopg.Connection
) -> None:
    conn = sqlite_table(tmp_path, declared, default)
    try:
        table = read_catalog(conn, tmp_path / "defaults.db").tables["t"]
        statements, decisions = table_ddl(conn, table, "defaults_case")
        stored = sqlite_value(conn)
    finally:
        conn.close()
    decision = decisions[1]
    statements.insert(0, "CREATE SCHEMA defaults_case")
    actual = pg_value(pg, statements)
    family = family_of(decision.pg_type)
    try:
        expected = cast_for(decision.pg_type, Policies(), "t")(stored)
    except CastProblem:
        # SQLite's value does not fit the column: no default can mean it.
        assert actual is None and decision.default_dropped
        return
    if decision.default_dropped:
        assert actual is None
        return
    assert close_enough(family, actual, expected, bool(CLOCK.search(default))), (actual, expected)


@pytest.mark.parametrize(
    ("default", "declared"),
    [
        ("current_date", "datetime"),
        ("current_date", "date"),
        ("current_date", "text"),
        ("current_time", "time"),
        ("current_timestamp", "text"),
        ("current_timestamp", "timestamp"),
        ("(datetime('now'))", "datetime"),
        ("(strftime('%s','now'))", "integer"),
        ("(strftime('%Y-%m-%dT%H:%M:%fZ','now'))", "datetime"),
        ("-1", "integer"),
        ("-2.5", "real"),
        ("X'00FF'", "blob"),
        ("TRUE", "boolean"),
        ("'abc'", ""),
    ],
)
def test_common_defaults_are_carried_not_dropped(default: str, declared: str) -> None:
    pg_type = {
        "datetime": "timestamp with time zone",
        "timestamp": "timestamp with time zone",
        "date": "date",
        "integer": "bigint",
        "real": "double precision",
        "blob": "bytea",
        "boolean": "boolean",
    }.get(declared, "text")
    translated = translate(default, pg_type, declared)
    assert translated.sql is not None and translated.dropped is None


def test_current_date_on_a_timestamp_column_is_midnight_utc(pg: psycopg.Connection) -> None:
    sql = translate("current_date", "timestamp with time zone", "DATETIME").sql
    with pg.transaction(force_rollback=True):
        pg.execute("SET LOCAL TimeZone = 'Pacific/Kiritimati'")  # UTC+14: another date
        value, today = pg.execute(f"SELECT {sql}, (now() AT TIME ZONE 'UTC')::date").fetchone()
    assert value == datetime.combine(today, datetime.min.time(), UTC)


def test_a_default_with_no_faithful_translation_says_why() -> None:
    dropped = translate("(datetime('now','localtime'))", "timestamp with time zone", "DATETIME")
    assert dropped.sql is None and "localtime" in (dropped.dropped or "")
    random = translate("(lower(hex(randomblob(4))))", "text", "TEXT")
    assert random.sql is None and "changes from row to row" in (random.dropped or "")


MOMENTS = [
    datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
    datetime(2019, 12, 30, 23, 59, 58, 5000, tzinfo=UTC),  # ISO week 1 of 2020
    datetime(2021, 1, 3, 12, 0, 0, tzinfo=UTC),  # a Sunday, ISO week 53 of 2020
    datetime(1999, 7, 1, 0, 30, 9, 999000, tzinfo=UTC),
]


@pytest.mark.parametrize("letter", sorted(SPECIFIERS))
def test_each_strftime_specifier_gives_sqlites_text_in_postgresql(
    letter: str, pg: psycopg.Connection
) -> None:
    form = ClockFormat.parse(f"<%{letter}>")
    assert form is not None
    sqlite = sqlite3.connect(":memory:")
    try:
        for moment in MOMENTS:
            literal = f"timestamptz '{moment.isoformat()}'"
            (actual,) = pg.execute(f"SELECT {form.pg_text(literal)}").fetchone()
            expected = form.sqlite_value(moment)
            assert actual == expected, (letter, moment)
            # Where this SQLite knows the specifier, it writes the same text.
            stamp = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
            (native,) = sqlite.execute("SELECT strftime(?, ?)", (f"<%{letter}>", stamp)).fetchone()
            assert native is None or native == expected, (letter, moment)
    finally:
        sqlite.close()


def test_unknown_specifiers_and_julian_days_are_not_translated() -> None:
    assert ClockFormat.parse("%J") is None
    assert ClockFormat.parse("%Q") is None
    assert translate("(strftime('%J','now'))", "text", "TEXT").sql is None


def test_without_a_declared_type_the_target_types_affinity_is_assumed() -> None:
    # Columns of our own databases carried onto an existing table: only the target type is known.
    assert translate_default("'5'", "bigint") == "'5'::bigint"
    assert translate_default("0", "boolean") == "'false'::boolean"
    assert translate_default("CURRENT_TIMESTAMP", "timestamp(3) with time zone") == (
        "(date_trunc('second', now()))::timestamp(3) with time zone"
    )
