"""Make each target schema ready before the load: ours from our schema, any file's from its layout.

Our databases' schemas are created as the server's first start creates them
(:class:`..registry.DatabaseRegistry`); any other SQLite file's tables from its
own layout (:mod:`.generic`); and what a source holds beyond our schema is
carried over (:mod:`.carry`). ``--create-schema`` allows the first two;
``--dry-run`` and ``--verify-only`` never create anything.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from pydantic import SecretStr

from ...config import load_settings
from ...redaction import redact_secrets
from ..backends.target import PgTarget
from ..registry import DatabaseRegistry
from .carry import Carried, carry_unknown
from .ddl import create_schema
from .errors import TargetNotReady, first_line
from .generic import schema_ddl
from .names import pg_identifier
from .options import MigrationOptions, SourceFile
from .results import DatabaseResult
from .source import SourceCatalog, open_source, read_catalog
from .target import read_target, schema_exists


def _why(exc: BaseException, target: PgTarget) -> str:
    """The first line of *exc*, without the target's password."""
    return redact_secrets(first_line(exc), target.password)


def _registry(target: PgTarget) -> tuple[DatabaseRegistry, str]:
    """A registry of *target* as the server would open it, and the server's default user."""
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
    return DatabaseRegistry(settings, pg_target=target), settings.default_user_id


def _create_schema(target: PgTarget, source: SourceFile) -> None:
    registry, default_user = _registry(target)
    try:
        registry.open(source.kind, source.user_id)
        # As the server's first start does: psql finds the default user's tables unqualified.
        registry.set_default_search_path(default_user)
    finally:
        registry.close()


def point_default_search_path(target: PgTarget) -> None:
    """What creating a schema does besides (:func:`_create_schema`): the database's default
    ``search_path`` names the default user's schemas, as after the server's first start."""
    registry, default_user = _registry(target)
    try:
        registry.set_default_search_path(default_user)
    finally:
        registry.close()


def created_in_load(
    conn: psycopg.Connection, options: MigrationOptions, source: SourceFile
) -> bool:
    """Whether *source*'s schema is to be created by the load itself (:func:`create_in_load`):
    one of ours, absent, and ``--create-schema`` given to a run that writes."""
    return (
        source.schema is not None
        and options.create_schema
        and not options.read_only
        and not schema_exists(conn, source.target_namespace)
    )


def create_in_load(conn: psycopg.Connection, options: MigrationOptions, source: SourceFile) -> None:
    """Create *source*'s schema (one of ours) inside the load's transaction, in one round trip;
    a refusal becomes :class:`TargetNotReady`, as :func:`prepare_target`'s."""
    assert source.schema is not None
    namespace = source.target_namespace
    try:
        create_schema(conn, source.schema, namespace)  # the caller's transaction rolls it back
    except psycopg.Error as exc:
        raise TargetNotReady(
            f"could not create PostgreSQL schema {namespace} in "
            f"{options.target.describe()}: {_why(exc, options.target)}"
        ) from None


def prepare_target(
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
    read_only = options.read_only
    if source.schema is None:
        return _prepare_generic(conn, options, source, namespace, read_only, result)
    if schema_exists(conn, namespace):
        return namespace
    if options.create_schema and not read_only:
        try:
            _create_schema(options.target, source)
        except Exception as exc:  # the schema code's own errors, e.g. a missing privilege
            raise TargetNotReady(
                f"could not create PostgreSQL schema {namespace} in "
                f"{options.target.describe()}: {_why(exc, options.target)}"
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
        raise TargetNotReady(
            f"could not create PostgreSQL schema {namespace}: {_why(exc, options.target)}"
        ) from None
    if result is not None:
        result.defaults_dropped = [
            f"{table}.{d.name}: {d.default_dropped}"
            for table, columns in decisions.items()
            for d in columns
            if d.default_dropped
        ]
    return namespace


def carry(
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
            f"PostgreSQL schema {namespace}: {_why(exc, options.target)}"
        ) from None
