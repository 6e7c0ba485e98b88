"""Load one database's plan into PostgreSQL, in one transaction, at COPY speed.

Inside a single transaction (all or nothing: a failure or a SIGKILL at any
moment leaves the target as it was):

1. clear the target tables with ``TRUNCATE`` (its cost does not depend on
   indexes or statistics, unlike row-by-row ``DELETE``), unless the schema was
   created in this very transaction (:mod:`.ddl`);
2. set aside what would otherwise be maintained row by row: foreign keys and
   user triggers (sync log, version rule), and the primary-key and unique
   constraints and secondary indexes (the GIN search indexes among them) of
   large tables;
3. stream every table with ``COPY ... FROM STDIN`` (``FREEZE``: the tables were
   truncated or created in this transaction, so rows are written already frozen);
4. rebuild the constraints and indexes set-wise (sorted builds, one validation
   query per foreign key), re-enable the triggers; what small tables need goes
   together at the end, in one round trip;
5. resync sequences past the highest id (and SQLite's AUTOINCREMENT high-water
   mark, so deleted ids are never reused);
6. verify counts and checksums, and commit only if they match.

Each step has its module: :mod:`.constraints` (2 and 4), :mod:`.feed` (the rows
of 3), :mod:`.sequences` (5), :mod:`.verify` (6); a refusal on the way becomes
a :class:`.errors.SourceDefect` naming the source value (:mod:`.refusals`).

Search vectors arrive with their rows, computed by the feed
(:mod:`..search.vectors`): PostgreSQL parses a finished vector instead of
folding, splitting and parsing the text, which would cost it more than storing
the row. The few rows the feed declines, PostgreSQL computes set-wise; a sample
of the others is checked against PostgreSQL's own expression. The data is
searchable the moment the transaction commits.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import time
from dataclasses import dataclass

import psycopg

from ..backends.pg_sql import quote_ident
from ..backends.pg_triggers import SEARCH_COLUMN, search_vector_sql
from ..schemas.spec import SearchIndex
from .casts import Policies
from .check import Exclusions
from .checksum import Checksum
from .constraints import (
    SMALL_TABLE_ROWS,
    SetAside,
    restore,
    restore_statements,
    restore_table,
    set_aside,
)
from .ddl import run_script
from .feed import DEFAULT_JOBS, CastFailed, RowFeed
from .plan import DatabasePlan, TablePlan
from .refusals import cast_defect, constraint_defect, copy_defect, rebuild_defect
from .results import Progress, TableResult
from .sequences import setval_statements
from .session import prepare_load_session
from .target import TargetTable
from .verify import loaded_checksum, verify_tables

logger = logging.getLogger(__name__)


@dataclass
class LoadResult:
    tables: list[TableResult]
    setval_statements: list[str]
    cleared_outside_plan: list[str]
    seconds: float


def _truncate(
    conn: psycopg.Connection, plan: DatabasePlan, namespace_tables: dict[str, TargetTable]
) -> list[str]:
    """TRUNCATE the planned tables and report any other table the cascade reaches."""
    planned = {t.name for t in plan.tables}
    reached = sorted(
        t.display
        for t in namespace_tables.values()
        if t.name not in planned and any(fk.parent in planned for fk in t.foreign_keys)
    )
    if plan.tables:
        names = ", ".join(t.target.qualified for t in plan.tables)
        # RESTART IDENTITY gives each owned sequence a new relfilenode in this transaction, so
        # the setval() of step 5 is rolled back with everything else (a bare setval is not).
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return reached


def _copy_table(
    conn: psycopg.Connection,
    feed: RowFeed,
    table: TablePlan,
    batch_size: int,
    progress: Progress | None,
    *,
    with_vectors: bool = False,
) -> tuple[int, Checksum]:
    """Stream one table (its search vectors too, if asked); return (rows, source checksum)."""
    names = [c.name for c in table.target_columns] + ([SEARCH_COLUMN] if with_vectors else [])
    columns = ", ".join(quote_ident(n) for n in names)
    copied = 0
    name = table.target.display
    # FREEZE: the target was truncated (or created) in this transaction, so its rows can be
    # written frozen.
    statement = f"COPY {table.target.qualified} ({columns}) FROM STDIN WITH (FREEZE)"
    rows = feed.rows(table.name)
    first = next(rows, None)
    if first is None:  # nothing to copy: no statement either (the table is empty already)
        if progress is not None:
            progress(name, 0, table.source.row_count)
        return 0, feed.checksum
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in itertools.chain((first,), rows):
            copy.write_row(row)
            copied += 1
            if progress is not None and copied % batch_size == 0:
                progress(name, copied, table.source.row_count)
    if progress is not None:
        progress(name, copied, table.source.row_count)
    return copied, feed.checksum


def _load_table(
    conn: psycopg.Connection,
    feed: RowFeed,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    table: TablePlan,
    exclusions: Exclusions,
    policies: Policies,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, Checksum]:
    """Copy one table; a value the cast or PostgreSQL refuses becomes a :class:`SourceDefect`."""
    try:
        index = plan.search_index(table)
        if index is None:
            return _copy_table(conn, feed, table, batch_size, progress)
        loaded = _copy_table(conn, feed, table, batch_size, progress, with_vectors=True)
        if loaded[0]:
            _complete_vectors(conn, table, index)
        return loaded
    except CastFailed as failed:
        raise cast_defect(plan, table, source, failed.rowid, failed.problem, policies) from None
    except (
        psycopg.errors.DataError,
        psycopg.errors.IntegrityError,
        psycopg.errors.ProgramLimitExceeded,  # e.g. a tsvector word too long
    ) as exc:
        feed.stop()  # the source connection is needed to name the refused row
        if _index_refused(exc):  # a small table keeps its indexes during the copy
            raise rebuild_defect(exc, plan, table, source) from None
        raise copy_defect(conn, exc, plan, table, source, exclusions, policies) from None


def _index_refused(exc: psycopg.Error) -> bool:
    """Whether *exc* is an index refusing a value too long for it (as its rebuild would)."""
    message = (exc.diag.message_primary if exc.diag else None) or ""
    return isinstance(exc, psycopg.errors.ProgramLimitExceeded) and "index row" in message


def _restore_table(
    conn: psycopg.Connection,
    aside: SetAside,
    plan: DatabasePlan,
    table: TablePlan,
    source: sqlite3.Connection,
) -> None:
    """Rebuild *table*'s keys and indexes; a refusal names the source row."""
    try:
        restore_table(conn, aside, table.target.qualified)
    except (psycopg.errors.IntegrityError, psycopg.errors.ProgramLimitExceeded) as exc:
        raise rebuild_defect(exc, plan, table, source) from None


def _restore_rest(
    conn: psycopg.Connection, aside: SetAside, plan: DatabasePlan, source: sqlite3.Connection
) -> None:
    """Restore everything still set aside in one round trip; should PostgreSQL refuse any
    of it, that is undone and redone step by step, so the refusal names its table and row."""
    try:
        with conn.transaction():
            run_script(conn, restore_statements(aside))
    except (psycopg.errors.IntegrityError, psycopg.errors.ProgramLimitExceeded):
        for table in plan.tables:
            _restore_table(conn, aside, plan, table, source)
        try:
            restore(conn, aside)
        except psycopg.errors.IntegrityError as exc:
            raise constraint_defect(exc, plan) from None
        return
    aside.clear()


#: How many rows of each searchable table have their vector checked against PostgreSQL's.
VECTOR_SAMPLE_ROWS = 500


def _complete_vectors(conn: psycopg.Connection, table: TablePlan, index: SearchIndex) -> None:
    """Compute the vectors the feed declined, and check a sample of the others.

    Declined rows arrived with a NULL vector (the expression never yields NULL):
    PostgreSQL computes them set-wise. Then a sample of the feed's vectors is
    compared with PostgreSQL's own; should any differ (a server whose parser or
    locale :mod:`..search.vectors` does not model), PostgreSQL recomputes them all,
    so the vectors are always exactly what the search trigger would have written.
    """
    target = table.target.qualified
    expression = search_vector_sql(table.target.namespace, index)
    percent = min(100.0, 100.0 * VECTOR_SAMPLE_ROWS / max(1, table.source.row_count))
    # Both in one round trip: the second statement's count is the last result.
    cursor = conn.execute(
        f"UPDATE {target} SET {SEARCH_COLUMN} = {expression} WHERE {SEARCH_COLUMN} IS NULL;\n"
        f"SELECT count(*) FROM {target} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (0) "
        f"WHERE {SEARCH_COLUMN} IS DISTINCT FROM ({expression})"
    )
    cursor.nextset()
    row = cursor.fetchone()
    if row and row[0]:
        logger.warning(
            "%s: %d sampled search vectors differ from PostgreSQL's; recomputing them all",
            table.target.display,
            row[0],
        )
        conn.execute(f"UPDATE {target} SET {SEARCH_COLUMN} = {expression}")


def load_database(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    namespace_tables: dict[str, TargetTable],
    exclusions: Exclusions,
    policies: Policies,
    *,
    batch_size: int = 500,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
    fresh: bool = False,
) -> LoadResult:
    """Run steps 1-6 of the module docstring inside the caller's transaction.

    *fresh*: the target schema was created in this transaction (:mod:`.ddl`), so its
    tables are empty and ``COPY ... FREEZE`` may write them without a ``TRUNCATE``.
    """
    started = time.perf_counter()
    prepare_load_session(conn)
    cleared = [] if fresh else _truncate(conn, plan, namespace_tables)
    aside = set_aside(conn, plan, namespace_tables)
    results: list[TableResult] = []
    checksums: dict[str, Checksum] = {}
    computed: dict[str, Checksum] = {}
    feed = RowFeed(source, plan, exclusions, jobs=jobs)
    try:
        for table in plan.tables:
            table_started = time.perf_counter()
            copied, checksum = _load_table(
                conn, feed, source, plan, table, exclusions, policies, batch_size, progress
            )
            if table.source.row_count >= SMALL_TABLE_ROWS:
                _restore_table(conn, aside, plan, table, source)
                # Checked now, while the feed converts the next table: the rows are final.
                computed[table.name] = loaded_checksum(conn, table)
            checksums[table.name] = checksum
            result = TableResult(
                source=table.source.name,
                target=table.target.display,
                source_rows=table.source.row_count,
                copied_rows=copied,
                seconds=time.perf_counter() - table_started,
            )
            result.policy_changes = policies.for_table(table.name) | exclusions.count(table.name)
            results.append(result)
    finally:
        feed.stop()
    _restore_rest(conn, aside, plan, source)
    statements = setval_statements(conn, plan)
    run_script(conn, statements)
    # No ANALYZE here: autovacuum analyzes the freshly loaded tables within a minute of
    # the commit, outside the transaction that holds every migrated table locked.
    verify_tables(conn, source, plan, results, checksums, exclusions, computed)
    return LoadResult(results, statements, cleared, time.perf_counter() - started)
