"""The migration as one library call: :func:`migrate`.

catalog (source and target) → plan → check → load (or dry-run scan, or
verify-only) → report. The command line (``migration_tools``) only turns flags
into :class:`.options.MigrationOptions` and the result into output and an exit
code; ``--rehearse`` is :func:`.rehearse.rehearse`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import psycopg
from psycopg import sql

from ...redaction import redact_secrets
from ..backends.target import PgTarget
from ..backends.unreachable import MIGRATION_NAMES, pg_unavailable
from .carry import carried_names
from .casts import Policies
from .check import Exclusions, find_duplicates, find_nulls, find_orphans, scan_values
from .errors import (
    ConnectionFailed,
    MigrationError,
    SourceDefect,
    UsageError,
    ValueProblem,
    VerificationFailed,
)
from .history import record_run
from .kinds import check_kinds
from .load import LoadResult, load_database
from .options import MigrationOptions, SourceFile
from .plan import DatabasePlan, plan_database
from .prepare import (
    carry,
    create_in_load,
    created_in_load,
    point_default_search_path,
    prepare_target,
)
from .refusals import server_failure
from .results import (
    DatabaseResult,
    MigrationResult,
    Progress,
    TableResult,
    UnitProgress,
    UnitResult,
)
from .sequences import setval_statements
from .source import SourceCatalog, open_source, read_catalog
from .target import TargetTable, read_target, schema_exists
from .units import Unit, UnitRecords, group_units
from .verify import require_verified, verify_only


def connect(target: PgTarget) -> psycopg.Connection:
    """Open the target connection; failures become :class:`ConnectionFailed`: one line
    naming host, port, database and user and what to do, never a secret."""
    try:
        return psycopg.connect(target.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(str(pg_unavailable(exc, target, MIGRATION_NAMES))) from None


def _mark_carried(result: DatabaseResult, plan: DatabasePlan, source: SourceFile) -> None:
    if source.schema is None:
        return
    for table, outcome in zip(plan.tables, result.tables, strict=True):
        outcome.carried, outcome.carried_columns = carried_names(source.schema, table.target)


def _name_derived_tables(plan: DatabasePlan, source: SourceFile) -> None:
    """Full-text tables that are not ours are derived data too, but nothing rebuilds them."""
    ours = {index.name.lower() for index in source.search}
    for name, why in plan.skipped.items():
        owner = next((o for o in ours if name.lower().startswith(o)), None)
        if "rebuilt on the target" in why and owner is None:
            plan.skipped[name] = why.replace(
                "rebuilt on the target", "derived data, not copied (we do not search it)"
            )


def _plan(
    conn: psycopg.Connection,
    catalog: SourceCatalog,
    options: MigrationOptions,
    source: SourceFile,
    namespace: str,
    policies: Policies,
    targets: dict[str, TargetTable] | None = None,
) -> tuple[DatabasePlan, dict]:
    """The plan of *source*, on *targets* (the target as it is now) or on the target read now."""
    targets = read_target(conn, namespace) if targets is None else targets
    plan = plan_database(
        source.label,
        catalog,
        namespace,
        targets,
        renames=source.renames,
        skip={s.lower() for s in options.skip_tables},
        policies=policies,
        search=source.search,
    )
    _name_derived_tables(plan, source)
    return plan, targets


def _check(
    sqlite_conn: sqlite3.Connection,
    plan: DatabasePlan,
    options: MigrationOptions,
    exclusions: Exclusions,
) -> list[ValueProblem]:
    problems = find_nulls(sqlite_conn, plan)
    problems += find_duplicates(sqlite_conn, plan)
    problems += find_orphans(sqlite_conn, plan, options.on_orphan, exclusions)
    return problems


def migrate_one(
    conn: psycopg.Connection,
    options: MigrationOptions,
    source: SourceFile,
    progress: Progress | None = None,
    result: DatabaseResult | None = None,
    *,
    create: bool = False,
) -> DatabaseResult:
    """Migrate (or check, or verify) one source file into its target schema.

    Runs in a transaction of its own, or in a savepoint of the caller's: a
    failure leaves the target as it was and is recorded in the result. With
    *create*, the target schema (absent, one of ours) is created in that same
    transaction (:func:`.prepare.create_in_load`).
    """
    started = time.perf_counter()
    namespace = source.target_namespace
    result = result or DatabaseResult(source.label, str(source.path), namespace)
    policies = options.policies
    exclusions = Exclusions()
    sqlite_conn: sqlite3.Connection | None = None
    try:
        sqlite_conn = open_source(source.path)
        namespace = source.target_namespace if create else prepare_target(conn, options, source)
        # --dry-run and --verify-only write nothing: what they carry is rolled back.
        with conn.transaction(force_rollback=options.read_only):
            if create:
                create_in_load(conn, options, source)
            catalog = read_catalog(sqlite_conn, source.path)
            carried = carry(conn, sqlite_conn, catalog, options, source, namespace)
            result.relaxed, result.widened = carried.relaxed, carried.widened
            plan, targets = _plan(
                conn, catalog, options, source, namespace, policies, carried.target
            )
            result.skipped = plan.skipped
            result.renamed = plan.shortened_names()
            problems = _check(sqlite_conn, plan, options, exclusions)
            if options.dry_run:
                for table in plan.tables:
                    problems += list(scan_values(sqlite_conn, plan, table, policies))
                result.problems = problems
                result.tables = [
                    TableResult(t.source.name, t.target.display, t.source.row_count)
                    for t in plan.tables
                ]
                _mark_carried(result, plan, source)
                result.status = "checked"
                if problems:
                    raise SourceDefect(problems)
                return result
            if problems:
                raise SourceDefect(problems)
            if options.verify_only:
                result.tables = verify_only(conn, sqlite_conn, plan, exclusions)
                _mark_carried(result, plan, source)
                result.setval = setval_statements(conn, plan)
                result.status = "verified"
                what = f"{source.label}: target differs from {source.path}"
                require_verified(conn, sqlite_conn, plan, result.tables, exclusions, what)
                return result
            loaded: LoadResult = load_database(
                conn,
                sqlite_conn,
                plan,
                targets,
                exclusions,
                policies,
                batch_size=options.batch_size,
                jobs=options.jobs,
                progress=progress,
                fresh=create,
            )
            result.tables = loaded.tables
            _mark_carried(result, plan, source)
            result.setval = loaded.setval_statements
            result.cleared_outside_plan = loaded.cleared_outside_plan
            result.status = "migrated"
    except MigrationError as exc:
        _record_failure(result, exc, options)
    finally:
        if sqlite_conn is not None:
            sqlite_conn.close()
        result.seconds = time.perf_counter() - started
    return result


def _record_failure(result: DatabaseResult, exc: MigrationError, options: MigrationOptions) -> None:
    result.status = "failed"
    result.error = redact_secrets(str(exc), options.target.password)
    result.exit_code = exc.exit_code
    if isinstance(exc, SourceDefect):
        result.problems = exc.problems
    if isinstance(exc, VerificationFailed) and exc.tables:
        result.tables = exc.tables


class _RollBack(Exception):
    """Leaves the run's transaction: one database failed, so none is kept."""


def _check_skip_names(options: MigrationOptions) -> None:
    """Every --skip-table must name a table of some source: a typo must not go unnoticed."""
    if not options.skip_tables:
        return
    known: set[str] = set()
    for source in options.sources:
        try:
            conn = open_source(source.path)
        except UsageError:
            continue  # missing or unreadable: reported, with its path, for its database
        try:
            renames = source.renames
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                known |= {str(name).lower(), renames.get(str(name).lower(), str(name).lower())}
        finally:
            conn.close()
    unknown = sorted(s for s in options.skip_tables if s.lower() not in known)
    if unknown:
        raise UsageError(
            f"--skip-table {', '.join(unknown)}: no such table in "
            + ", ".join(str(s.path) for s in options.sources)
        )


def migrate(
    options: MigrationOptions,
    progress: Progress | None = None,
    units: UnitProgress | None = None,
) -> MigrationResult:
    """Migrate every source of *options*, all or nothing, or unit by unit with ``--all-users``.

    Every target schema is made ready first (``--create-schema``); then all the
    databases load in one PostgreSQL transaction, each in a savepoint of it. If
    any database fails, the transaction is rolled back and the target is left
    exactly as it was, the databases loaded before the failure included.
    ``--dry-run`` and ``--verify-only`` write nothing and go through every
    database, so that one run reports every problem.

    With :attr:`~.options.RunOptions.each_unit_apart`, the same holds for each unit
    (:mod:`.units`) alone: a failing user is rolled back and the run goes on; *units*
    hears each unit's end.
    """
    _check_skip_names(options)
    if not options.each_unit_apart:  # else each unit's are checked in turn: a bad one fails alone
        check_kinds((s.kind, s.path) for s in options.sources)
    conn = connect(options.target)
    try:
        if options.each_unit_apart:
            return record_run(options, _migrate_units(conn, options, progress, units))
        return record_run(options, _migrate(conn, options, progress))
    except psycopg.Error as exc:
        raise server_failure(exc, conn, options.target) from None
    finally:
        conn.close()


def _migrate(
    conn: psycopg.Connection, options: MigrationOptions, progress: Progress | None
) -> MigrationResult:
    result = MigrationResult(target=options.target.describe(), databases=[])
    if options.read_only:
        for source in options.sources:
            result.databases.append(migrate_one(conn, options, source, progress))
        return result
    result.databases = [
        DatabaseResult(s.label, str(s.path), s.target_namespace) for s in options.sources
    ]
    _migrate_together(
        conn, options, options.sources, result.databases, progress, "another database"
    )
    return result


def _migrate_together(
    conn: psycopg.Connection,
    options: MigrationOptions,
    sources: list[SourceFile],
    databases: list[DatabaseResult],
    progress: Progress | None,
    other: str,
    on_commit: Callable[[psycopg.Connection], None] | None = None,
    *,
    create_in_transaction: bool = False,
) -> bool:
    """Load *sources* in one transaction (each in a savepoint); *on_commit* runs last in it.

    True when it committed; else every database of *databases* says why it was not kept,
    naming the failure as *other*. With *create_in_transaction*, schemas of ours that
    ``--create-schema`` is to create are created by each database's load, inside its
    savepoint: one round trip, and no truncation of the tables just made.
    """
    creates: list[bool] = []
    for source, db in zip(sources, databases, strict=True):
        try:
            if not source.path.exists():
                raise UsageError(f"{source.path}: no such SQLite file")
            creates.append(create_in_transaction and created_in_load(conn, options, source))
            if not creates[-1]:
                prepare_target(conn, options, source, db)
        except MigrationError as exc:
            _record_failure(db, exc, options)
            _mark_not_done(databases, f"not migrated: {other} is not ready")
            return False
    try:
        with conn.transaction():
            for source, db, create in zip(sources, databases, creates, strict=True):
                migrate_one(conn, options, source, progress, db, create=create)
                if db.exit_code:
                    raise _RollBack
            if on_commit is not None:
                on_commit(conn)
    except _RollBack:
        _mark_not_done(databases, f"rolled back: {other} failed, so none was kept")
        return False
    return True


#: Units migrated on one connection before the next: a PostgreSQL session keeps in its
#: memory every table it has touched, and with each user's ~45 new tables its statements
#: grew slower (a 1,000-user run went from 0.8 s to 12 s per user by its 380th user).
UNITS_PER_CONNECTION = 50


@dataclass
class _SearchPath:
    """Whether this run has pointed the database's default ``search_path`` yet."""

    pointed: bool = False


def _migrate_units(
    conn: psycopg.Connection,
    options: MigrationOptions,
    progress: Progress | None,
    units: UnitProgress | None,
) -> MigrationResult:
    """Each unit in a transaction of its own; a failing unit is reported and the run goes on."""
    result = MigrationResult(target=options.target.describe(), databases=[])
    grouped = group_units(options.sources)
    records = None if options.read_only else UnitRecords.prepare(options.target, conn)
    search_path = _SearchPath()
    current = conn
    try:
        for done, unit in enumerate(grouped, 1):
            if done % UNITS_PER_CONNECTION == 0:
                if current is not conn:
                    current.close()
                current = connect(options.target)
            outcome = UnitResult(
                unit.name,
                [DatabaseResult(s.label, str(s.path), s.target_namespace) for s in unit.sources],
            )
            result.units.append(outcome)
            result.databases += outcome.databases
            _migrate_unit(current, options, unit, outcome, records, progress, search_path)
            if units is not None:
                units(outcome, done, len(grouped))
    finally:
        if current is not conn:
            current.close()
    return result


def _migrate_unit(
    conn: psycopg.Connection,
    options: MigrationOptions,
    unit: Unit,
    outcome: UnitResult,
    records: UnitRecords | None,
    progress: Progress | None,
    search_path: _SearchPath,
) -> None:
    if not _kinds_checked(unit, outcome, options):
        return
    if options.read_only:
        for source, db in zip(unit.sources, outcome.databases, strict=True):
            migrate_one(conn, options, source, progress, db)
        return
    earlier = None if records is None or options.redo_all else records.verified(conn, unit)
    if earlier is not None:
        for db in outcome.databases:
            db.status = "skipped"
            db.error = (
                f"verified by an earlier run ({earlier.verified_at:%Y-%m-%d %H:%M} UTC), "
                "unchanged since (--redo-all redoes it)"
            )
        return
    absent = [ns for ns in dict.fromkeys(unit.namespaces) if not schema_exists(conn, ns)]
    write = None if records is None else partial(UnitRecords.write, unit=unit)
    other = f"another database of {unit.name}"
    dbs, sources = outcome.databases, unit.sources
    done = _migrate_together(
        conn, options, sources, dbs, progress, other, write, create_in_transaction=True
    )
    if not done:
        _drop_schemas(conn, absent)
    elif not search_path.pointed and any(
        s.schema and s.target_namespace in absent for s in unit.sources
    ):
        # Once per run, as creating a schema the server's way does each time.
        point_default_search_path(options.target)
        search_path.pointed = True


def _kinds_checked(unit: Unit, outcome: UnitResult, options: MigrationOptions) -> bool:
    """:func:`.kinds.check_kinds` for one unit: a file that is not its database fails it."""
    for source, db in zip(unit.sources, outcome.databases, strict=True):
        try:
            check_kinds([(source.kind, source.path)])
        except MigrationError as exc:
            _record_failure(db, exc, options)
            _mark_not_done(
                outcome.databases, f"not migrated: another database of {unit.name} failed"
            )
            return False
    return True


def _drop_schemas(conn: psycopg.Connection, namespaces: list[str]) -> None:
    """Drop the schemas a failed unit's ``--create-schema`` made: the target is left as it
    was before the run, with no empty schema a re-run or the server would take for data."""
    with conn.transaction():
        for namespace in namespaces:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(namespace))
            conn.execute(drop)


def _mark_not_done(databases: list[DatabaseResult], why: str) -> None:
    for db in databases:
        if db.status == "migrated":
            db.status = "rolled back"
            db.error = why
            for table in db.tables:
                table.verified = False
        elif db.status == "pending":
            db.status = "not attempted"
            db.error = why
