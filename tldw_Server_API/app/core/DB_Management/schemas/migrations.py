"""The migration history: one row per migration run that committed, in the target database.

It lives in a PostgreSQL schema of its own (:data:`NAMESPACE`), beside the schemas the
migration fills, so that the server reading that database can show what arrived and how
(``GET /api/v1/migrations``). It is not one of the four content databases: the migration
neither reads nor copies it, and ``init_db`` does not create it (the first recorded run does).
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, Text

from .types import Double, Instant, Int, Json, Key

NAMESPACE = "migrations"

metadata = MetaData()

migration_runs = Table(
    "migration_runs",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("recorded_at", Instant, nullable=False),
    Column("tool_version", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("exit_code", Int, nullable=False),
    Column("reason", Text, nullable=False),
    Column("databases", Int, nullable=False),
    Column("tables", Int, nullable=False),
    Column("source_rows", Int, nullable=False),
    Column("seconds", Double, nullable=False),
    # The JSON report of ``tldw-migrate --report`` (docs/migration.md), as written then.
    Column("report", Json, nullable=False),
)

# One row per unit of an ``--all-users`` run (a user's databases, or the server's) whose
# transaction committed verified: a re-run skips a unit whose files still match (docs/migration.md).
verified_units = Table(
    "verified_units",
    metadata,
    Column("unit", Text, primary_key=True),  # "user <id>", "server databases"
    Column("fingerprint", Text, nullable=False),  # the source files' paths, sizes and mtimes
    Column("schemas", Text, nullable=False),  # the target schemas it filled, comma-separated
    Column("verified_at", Instant, nullable=False),
    Column("tool_version", Text, nullable=False),
)

__all__ = ["NAMESPACE", "metadata", "migration_runs", "verified_units"]
