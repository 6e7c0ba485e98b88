"""Create or upgrade a database in place, on either backend, exactly once.

:func:`ensure_schema` is what opening a database means: an empty place gets
the current schema; an older one is upgraded step by step inside one
transaction (so a failed upgrade leaves it as it was); a current one is left
untouched. Concurrent openers are serialised (an advisory lock on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite).

Our version lives in ``tldw_schema``. A place holding tables but no such row
is a file of our users' own server, of whatever version (its own number, in
``schema_version``, is its data, not ours): it is adopted, that is upgraded from
our version 1 after its layout is reconciled with ours. A file is copied beside
itself before any upgrade touches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, insert, inspect, select

from ..backends.base import Database
from .spec import DatabaseSchema
from .upgrades import UpgradeContext, reconcile_layout, rename_legacy_tables

Outcome = Literal["created", "upgraded", "current"]


class SchemaError(RuntimeError):
    """The database cannot be opened with this version of the software."""


@dataclass(frozen=True)
class SchemaState:
    outcome: Outcome
    from_version: int | None
    version: int


def read_version(conn: Connection, schema: DatabaseSchema, namespace: str | None) -> int | None:
    """The recorded version, ``None`` when the place holds no version record."""
    record = schema.version_record
    if not inspect(conn).has_table(record.table, schema=namespace):
        return None
    table = schema.table(record.table)
    query = select(table.c.version).where(table.c.schema_name == record.schema_name)
    versions = [int(v) for v in conn.execute(query).scalars()]
    return max(versions) if versions else None


def write_version(conn: Connection, schema: DatabaseSchema, version: int) -> None:
    record = schema.version_record
    table = schema.table(record.table)
    table.create(conn, checkfirst=True)
    conn.execute(delete(table).where(table.c.schema_name == record.schema_name))
    conn.execute(insert(table).values(schema_name=record.schema_name, version=version))


def _lock(conn: Connection, database: Database) -> None:
    """One creator or upgrader of *database*'s schema at a time (server processes included)."""
    database.dialect.serialize(conn, database.namespace or database.schema.name)


def _context(conn: Connection, database: Database) -> UpgradeContext:
    # Imported here: only an upgrade needs Alembic (~12 MB), and a migration into a
    # current schema, with its 150 MB budget, never upgrades.
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    migration = MigrationContext.configure(connection=conn)
    return UpgradeContext(
        conn=conn,
        ops=Operations(migration),
        dialect=database.dialect,
        schema=database.schema,
        namespace=database.namespace,
    )


def _holds_tables(conn: Connection, database: Database) -> bool:
    existing = {n.lower() for n in inspect(conn).get_table_names(schema=database.namespace)}
    ours = set(database.schema.metadata.tables) | set(database.schema.legacy_table_names)
    return bool(existing & ours)


def create_current(conn: Connection, database: Database) -> None:
    schema = database.schema
    schema.metadata.create_all(conn)
    database.dialect.install_artefacts(conn, schema, database.namespace, rebuild=False)
    write_version(conn, schema, schema.version)


def upgrade(conn: Connection, database: Database, from_version: int) -> None:
    """Bring a place at our *from_version* (1: a file of our users' server) to the current one.

    The layout is reconciled first, so that every step finds the tables and
    columns it works on whatever version of our users' server wrote the file.
    """
    schema = database.schema
    ctx = _context(conn, database)
    rename_legacy_tables(ctx)
    reconcile_layout(ctx)
    for step in sorted(schema.upgrades, key=lambda s: s.to_version):
        if from_version < step.to_version <= schema.version:
            step.upgrade(ctx)
    write_version(conn, schema, schema.version)


def _found_version(conn: Connection, database: Database) -> int | None:
    """Our version of the place; 1 for a file of our users' server; None for an empty place."""
    found = read_version(conn, database.schema, database.namespace)
    if found is None and _holds_tables(conn, database):
        return 1
    return found


def _needs_upgrade(database: Database) -> bool:
    """Whether opening *database* will upgrade it (a quick look, before the upgrade's lock)."""
    with database.begin(write=False) as conn:
        if database.namespace and not inspect(conn).has_schema(database.namespace):
            return False
        found = _found_version(conn, database)
    return found is not None and found < database.schema.version


def ensure_schema(database: Database) -> SchemaState:
    """Create, upgrade or confirm *database*'s schema; return what was done."""
    schema = database.schema
    if database.backend.keeps_copies and _needs_upgrade(database):
        database.backend.keep_copy(f"before-tldw-v{schema.version}")
    with database.begin(write=True) as conn:
        # The lock first: PostgreSQL's CREATE SCHEMA IF NOT EXISTS fails, rather than waits,
        # when another session creates the same schema at the same moment.
        _lock(conn, database)
        database.dialect.prepare_namespace(conn, database.namespace)
        found = _found_version(conn, database)
        if found is None:
            create_current(conn, database)
            state = SchemaState("created", None, schema.version)
        elif found < schema.version:
            upgrade(conn, database, found)
            state = SchemaState("upgraded", found, schema.version)
        elif found > schema.version:
            raise SchemaError(
                f"{database.describe()}: {schema.title} schema version {found} is newer than "
                f"this software's ({schema.version}); upgrade tldw_server first"
            )
        else:
            state = SchemaState("current", found, found)
        if state.outcome != "created":
            # Rows inserted with explicit ids (an older layout's, a restore's) must not
            # collide with the ids of new rows.
            database.dialect.sync_sequences(conn, schema, database.namespace)
    database.version = state.version
    return state


def downgrade_to(database: Database, version: int) -> None:
    """Step a current database back to *version* (tests and emergency rollbacks)."""
    schema = database.schema
    with database.begin(write=True) as conn:
        _lock(conn, database)
        found = _found_version(conn, database) or schema.version
        ctx = _context(conn, database)
        for step in sorted(schema.upgrades, key=lambda s: -s.to_version):
            if version < step.to_version <= found:
                step.downgrade(ctx)
        write_version(conn, schema, version)
    database.version = version
