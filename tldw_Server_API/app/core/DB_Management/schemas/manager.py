"""Create or upgrade a database in place, on either backend, exactly once.

:func:`ensure_schema` is what opening a database means: an empty place gets
the current schema; an older one is upgraded step by step inside one
transaction (so a failed upgrade leaves it as it was); a current one is left
untouched. Concurrent openers are serialised (an advisory lock on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, insert, inspect, select, text

from ..backends.base import Database
from .spec import DatabaseSchema
from .upgrades import UpgradeContext

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
    query = select(table.c.version)
    if record.schema_name is not None:
        query = query.where(table.c.schema_name == record.schema_name)
    versions = [int(v) for v in conn.execute(query).scalars()]
    return max(versions) if versions else None


def write_version(conn: Connection, schema: DatabaseSchema, version: int) -> None:
    record = schema.version_record
    table = schema.table(record.table)
    if record.schema_name is None:
        conn.execute(delete(table))
        conn.execute(insert(table).values(version=version))
    else:
        conn.execute(delete(table).where(table.c.schema_name == record.schema_name))
        conn.execute(insert(table).values(schema_name=record.schema_name, version=version))


def _lock(conn: Connection, database: Database) -> None:
    if database.kind == "postgresql":
        key = zlib.crc32(f"tldw:{database.namespace}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


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
    schema = database.schema
    ctx = _context(conn, database)
    for step in sorted(schema.upgrades, key=lambda s: s.to_version):
        if from_version < step.to_version <= schema.version:
            step.upgrade(ctx)
    # Tables added since the file was written; existing ones are left alone.
    schema.metadata.create_all(conn, checkfirst=True)
    write_version(conn, schema, schema.version)


def ensure_schema(database: Database) -> SchemaState:
    """Create, upgrade or confirm *database*'s schema; return what was done."""
    schema = database.schema
    with database.begin(write=True) as conn:
        database.dialect.prepare_namespace(conn, database.namespace)
        _lock(conn, database)
        found = read_version(conn, schema, database.namespace)
        if found is None and _holds_tables(conn, database):
            found = 1  # a file from before versions were recorded: the oldest layout
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
        found = read_version(conn, schema, database.namespace) or schema.version
        ctx = _context(conn, database)
        for step in sorted(schema.upgrades, key=lambda s: -s.to_version):
            if version < step.to_version <= found:
                step.downgrade(ctx)
        write_version(conn, schema, version)
    database.version = version
