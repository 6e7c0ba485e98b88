"""The migration as one library call: :func:`migrate`.

catalog (source and target) → plan → check → load (or dry-run scan, or
verify-only) → report. The command line (``migration_tools``) only turns flags
into :class:`MigrationOptions` and the result into output and an exit code.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psycopg
from pydantic import SecretStr

from ...config import load_settings
from ...redaction import redact_secrets
from ..backends.target import PgTarget
from ..backends.unreachable import MIGRATION_NAMES, pg_unavailable
from ..registry import DatabaseRegistry, pg_namespace
from ..schemas import SCHEMAS
from ..schemas.spec import DatabaseSchema, SearchIndex
from .carry import Carried, carried_names, carry_unknown
from .casts import Policies
from .check import Exclusions, OrphanPolicy, find_duplicates, find_nulls, find_orphans, scan_values
from .errors import (
    ConnectionFailed,
    MigrationError,
    SourceDefect,
    TargetNotReady,
    UsageError,
    ValueProblem,
    VerificationFailed,
)
from .feed import DEFAULT_JOBS
from .generic import schema_ddl
from .history import record_run
from .kinds import check_kinds
from .load import (
    LoadResult,
    TableResult,
    first_difference,
    load_database,
    setval_statements,
    source_checksum,
)
from .names import pg_identifier
from .plan import DatabasePlan, plan_database
from .source import SourceCatalog, open_source, read_catalog
from .target import read_target, schema_exists
from .verify import target_checksum

DatabaseKind = Literal["media", "chacha", "analytics", "workflows"]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SourceFile:
    """One SQLite file to migrate: which of our databases it is and whose, or any file.

    ``kind="generic"`` is any SQLite file; it lands in the PostgreSQL schema
    *namespace*, which ``--create-schema`` creates from the file's own layout.
    """

    kind: DatabaseKind | Literal["generic"]
    path: Path
    user_id: str | None = None
    namespace: str | None = None

    @property
    def schema(self) -> DatabaseSchema | None:
        return SCHEMAS.get(self.kind)

    @property
    def label(self) -> str:
        if self.schema is None:
            return f"SQLite file {self.path.name}"
        title = self.schema.title
        return f"{title} (user {self.user_id})" if self.user_id else title

    @property
    def target_namespace(self) -> str:
        if self.schema is None:
            if not self.namespace:
                raise UsageError(f"{self.path}: give the target schema (--target-schema)")
            return self.namespace
        return pg_namespace(self.schema, self.user_id or "1")

    @property
    def renames(self) -> dict[str, str]:
        return self.schema.legacy_table_names if self.schema else {}

    @property
    def search(self) -> tuple[SearchIndex, ...]:
        return self.schema.search if self.schema else ()


@dataclass
class MigrationOptions:
    sources: list[SourceFile]
    target: PgTarget
    batch_size: int = 500
    jobs: int = DEFAULT_JOBS
    skip_tables: set[str] = field(default_factory=set)
    create_schema: bool = False
    dry_run: bool = False
    verify_only: bool = False
    on_nul: Literal["error", "strip"] = "error"
    on_orphan: OrphanPolicy = "error"
    on_invalid_json: Literal["error", "string"] = "error"
    on_invalid_utf8: Literal["error", "replace"] = "error"


@dataclass
class DatabaseResult:
    label: str
    source_file: str
    namespace: str
    status: str = "pending"  # migrated, verified, checked, failed
    tables: list[TableResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    setval: list[str] = field(default_factory=list)
    cleared_outside_plan: list[str] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    """Target columns (not ours) whose NOT NULL was dropped: the source leaves them empty."""
    widened: list[str] = field(default_factory=list)
    """Target columns given a wider type: the source holds values the old one cannot."""

    @property
    def carried(self) -> list[str]:
        """Tables and columns not in our schema, created on the target from the source's layout."""
        lines = [f"table {t.target}" for t in self.tables if t.carried]
        lines += [
            f"column {t.target}.{column}"
            for t in self.tables
            if not t.carried
            for column in t.carried_columns
        ]
        return lines

    problems: list[ValueProblem] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)
    defaults_dropped: list[str] = field(default_factory=list)
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0


@dataclass
class MigrationResult:
    target: str
    databases: list[DatabaseResult]

    @property
    def exit_code(self) -> int:
        codes = [d.exit_code for d in self.databases if d.exit_code]
        return codes[0] if codes else 0


def connect(target: PgTarget) -> psycopg.Connection:
    """Open the target connection; failures become :class:`ConnectionFailed`: one line
    naming host, port, database and user and what to do, never a secret."""
    try:
        return psycopg.connect(target.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(str(pg_unavailable(exc, target, MIGRATION_NAMES))) from None


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (driver messages run to several), or its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def redact(text: str, target: PgTarget) -> str:
    return redact_secrets(text, target.password)


def _create_schema(target: PgTarget, source: SourceFile) -> None:
    password: SecretStr | None = target.password
    settings = load_settings(
        env={},
        config_file=Path("/nonexistent/config.txt"),
        content_db_backend="postgresql",
        pg_host=target.host,
        pg_port=target.port,
        pg_database=target.database,
        pg_user=target.user,
        pg_password=password,
        pg_sslmode=target.sslmode,
    )
    registry = DatabaseRegistry(settings, pg_target=target)
    try:
        registry.open(source.kind, source.user_id)
        # As the server's first start does: psql finds the default user's tables unqualified.
        registry.set_default_search_path(settings.default_user_id)
    finally:
        registry.close()


def _prepare_target(
    conn: psycopg.Connection,
    options: MigrationOptions,
    source: SourceFile,
    result: DatabaseResult | None = None,
) -> str:
    """The target schema of *source*, created first when --create-schema allows it.

    ``--dry-run`` and ``--verify-only`` write nothing, so they never create one. Defaults
    left out of created tables are noted in *result*.
    """
    namespace = source.target_namespace
    read_only = options.dry_run or options.verify_only
    if source.schema is None:
        return _prepare_generic(conn, options, source, namespace, read_only, result)
    if schema_exists(conn, namespace):
        return namespace
    if options.create_schema and not read_only:
        try:
            _create_schema(options.target, source)
        except Exception as exc:  # the schema code's own errors, e.g. a missing privilege
            first = first_line(exc)
            raise TargetNotReady(
                f"could not create PostgreSQL schema {namespace} in "
                f"{options.target.describe()}: {redact(first, options.target)}"
            ) from None
        return namespace
    how = (
        "start the server once with TLDW_CONTENT_DB_BACKEND=postgresql, "
        "or run `python -m tldw_Server_API.app.core.DB_Management.init_db`, "
        "or pass --create-schema"
    )
    if read_only:
        mode = "--dry-run" if options.dry_run else "--verify-only"
        how += f" (without {mode}, which writes nothing)"
    raise TargetNotReady(
        f"PostgreSQL schema {namespace} does not exist in {options.target.describe()}. "
        f"Create it first: {how}"
    )


def _prepare_generic(
    conn: psycopg.Connection,
    options: MigrationOptions,
    source: SourceFile,
    namespace: str,
    read_only: bool,
    result: DatabaseResult | None = None,
) -> str:
    """Any SQLite file: create, from its own layout, the tables the target lacks."""
    sqlite_conn = open_source(source.path)
    try:
        catalog = read_catalog(sqlite_conn, source.path)
        existing = set(read_target(conn, namespace)) if schema_exists(conn, namespace) else set()
        skip = {s.lower() for s in options.skip_tables}
        missing = {
            t.name.lower()
            for t in catalog.tables.values()
            if pg_identifier(t.name) not in existing and t.name.lower() not in skip
        }
        if not missing:
            return namespace
        if not options.create_schema or read_only:
            raise TargetNotReady(
                f"PostgreSQL schema {namespace} lacks table(s) {', '.join(sorted(missing))} "
                f"of {source.path}; pass --create-schema to create them from the file's layout"
            )
        statements, decisions = schema_ddl(sqlite_conn, catalog, namespace, only=missing)
    finally:
        sqlite_conn.close()
    try:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
    except psycopg.Error as exc:
        first = first_line(exc)
        raise TargetNotReady(
            f"could not create PostgreSQL schema {namespace}: {redact(first, options.target)}"
        ) from None
    if result is not None:
        result.defaults_dropped = [
            f"{table}.{d.name}: {d.default_dropped}"
            for table, columns in decisions.items()
            for d in columns
            if d.default_dropped
        ]
    return namespace


def _carry(
    conn: psycopg.Connection,
    sqlite_conn: sqlite3.Connection,
    catalog: SourceCatalog,
    options: MigrationOptions,
    source: SourceFile,
    namespace: str,
) -> Carried:
    """Create on the target what the source holds beyond our schema (any SQLite file:
    ``--create-schema`` already made every table from the file's layout)."""
    if source.schema is None:
        return Carried()
    skip = {s.lower() for s in options.skip_tables}
    try:
        return carry_unknown(conn, sqlite_conn, catalog, namespace, source.schema, skip)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise TargetNotReady(
            f"{source.path}: could not create the tables and columns our schema lacks in "
            f"PostgreSQL schema {namespace}: {redact(first_line(exc), options.target)}"
        ) from None


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
) -> tuple[DatabasePlan, dict]:
    targets = read_target(conn, namespace)
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


def _policies(options: MigrationOptions) -> Policies:
    return Policies(
        on_nul=options.on_nul,
        on_invalid_json=options.on_invalid_json,
        on_invalid_utf8=options.on_invalid_utf8,
    )


def migrate_one(
    conn: psycopg.Connection,
    options: MigrationOptions,
    source: SourceFile,
    progress: Progress | None = None,
    result: DatabaseResult | None = None,
) -> DatabaseResult:
    """Migrate (or check, or verify) one source file into its target schema.

    Runs in a transaction of its own, or in a savepoint of the caller's: a
    failure leaves the target as it was and is recorded in the result.
    """
    started = time.perf_counter()
    namespace = source.target_namespace
    result = result or DatabaseResult(source.label, str(source.path), namespace)
    policies = _policies(options)
    exclusions = Exclusions()
    sqlite_conn: sqlite3.Connection | None = None
    try:
        sqlite_conn = open_source(source.path)
        namespace = _prepare_target(conn, options, source)
        # --dry-run and --verify-only write nothing: what they carry is rolled back.
        read_only = options.dry_run or options.verify_only
        with conn.transaction(force_rollback=read_only):
            catalog = read_catalog(sqlite_conn, source.path)
            carried = _carry(conn, sqlite_conn, catalog, options, source, namespace)
            result.relaxed, result.widened = carried.relaxed, carried.widened
            plan, targets = _plan(conn, catalog, options, source, namespace, policies)
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
                result.tables = _verify_only(conn, sqlite_conn, plan, exclusions)
                _mark_carried(result, plan, source)
                result.setval = setval_statements(conn, plan)
                result.status = "verified"
                failed = [
                    (t, r)
                    for t, r in zip(plan.tables, result.tables, strict=True)
                    if not r.verified
                ]
                if failed:
                    details = "; ".join(
                        f"{r.target} (source {r.copied_rows} rows, target {r.target_rows} rows; "
                        "first difference: "
                        f"{first_difference(conn, sqlite_conn, t, exclusions) or 'none found'})"
                        for t, r in failed
                    )
                    raise VerificationFailed(
                        f"{source.label}: target differs from {source.path} in {details}",
                        result.tables,
                    )
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
    result.error = redact(str(exc), options.target)
    result.exit_code = exc.exit_code
    if isinstance(exc, SourceDefect):
        result.problems = exc.problems
    if isinstance(exc, VerificationFailed) and exc.tables:
        result.tables = exc.tables


def _verify_only(
    conn: psycopg.Connection,
    sqlite_conn: sqlite3.Connection,
    plan: DatabasePlan,
    exclusions: Exclusions,
) -> list[TableResult]:
    results = []
    for table in plan.tables:
        expected = source_checksum(sqlite_conn, table, exclusions)
        actual = target_checksum(conn, table)
        results.append(
            TableResult(
                source=table.source.name,
                target=table.target.display,
                source_rows=table.source.row_count,
                target_rows=actual.rows,
                copied_rows=expected.rows,
                verified=expected.rows == actual.rows and expected.total == actual.total,
                source_checksum=expected.total,
                target_checksum=actual.total,
            )
        )
    return results


class _RollBack(Exception):
    """Leaves the run's transaction: one database failed, so none is kept."""


def _check_skip_names(options: MigrationOptions) -> None:
    """Every --skip-table must name a table of some source: a typo must not go unnoticed."""
    if not options.skip_tables:
        return
    known: set[str] = set()
    for source in options.sources:
        if not source.path.exists():
            continue  # reported, with its path, when the file is opened
        conn = open_source(source.path)
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


def migrate(options: MigrationOptions, progress: Progress | None = None) -> MigrationResult:
    """Migrate every source of *options*, all or nothing.

    Every target schema is made ready first (``--create-schema``); then all the
    databases load in one PostgreSQL transaction, each in a savepoint of it. If
    any database fails, the transaction is rolled back and the target is left
    exactly as it was, the databases loaded before the failure included.
    ``--dry-run`` and ``--verify-only`` write nothing and go through every
    database, so that one run reports every problem.
    """
    _check_skip_names(options)
    check_kinds((s.kind, s.path) for s in options.sources)
    conn = connect(options.target)
    try:
        return record_run(options, _migrate(conn, options, progress))
    except psycopg.Error as exc:
        raise _server_failure(exc, conn, options.target) from None
    finally:
        conn.close()


#: SQLSTATEs of a server that ended the session (shutdown, crash, pg_terminate_backend).
_SESSION_ENDED = {"57P01", "57P02", "57P03"}


def _server_failure(
    exc: psycopg.Error, conn: psycopg.Connection, target: PgTarget
) -> MigrationError:
    """What a PostgreSQL error no database step mapped means; the transaction died with it."""
    first = redact(first_line(exc), target)
    state = exc.sqlstate
    if conn.broken or state is None or state.startswith("08") or state in _SESSION_ENDED:
        return ConnectionFailed(
            f"lost the connection to {target.describe()} ({first}); nothing was committed"
        )
    refused = (psycopg.errors.DataError, psycopg.errors.IntegrityError)
    if isinstance(exc, refused) or state == "54000":
        return UsageError(
            f"PostgreSQL at {target.describe()} refused a source value ({first}; "
            f"SQLSTATE {state}); nothing was committed"
        )
    return TargetNotReady(
        f"PostgreSQL at {target.describe()} refused the migration ({first}; SQLSTATE {state}); "
        "nothing was committed"
    )


def _migrate(
    conn: psycopg.Connection, options: MigrationOptions, progress: Progress | None
) -> MigrationResult:
    result = MigrationResult(target=options.target.describe(), databases=[])
    if options.dry_run or options.verify_only:
        for source in options.sources:
            result.databases.append(migrate_one(conn, options, source, progress))
        return result
    result.databases = [
        DatabaseResult(s.label, str(s.path), s.target_namespace) for s in options.sources
    ]
    for source, db in zip(options.sources, result.databases, strict=True):
        try:
            if not source.path.exists():
                raise UsageError(f"{source.path}: no such SQLite file")
            _prepare_target(conn, options, source, db)
        except MigrationError as exc:
            _record_failure(db, exc, options)
            _mark_not_done(result, "not migrated: another database is not ready")
            return result
    try:
        with conn.transaction():
            for source, db in zip(options.sources, result.databases, strict=True):
                migrate_one(conn, options, source, progress, db)
                if db.exit_code:
                    raise _RollBack
    except _RollBack:
        _mark_not_done(result, "rolled back: another database failed, so none was kept")
    return result


def _mark_not_done(result: MigrationResult, why: str) -> None:
    for db in result.databases:
        if db.status == "migrated":
            db.status = "rolled back"
            db.error = why
            for table in db.tables:
                table.verified = False
        elif db.status == "pending":
            db.status = "not attempted"
            db.error = why
