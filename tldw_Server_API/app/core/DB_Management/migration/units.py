"""The units of an ``--all-users`` run: each user's databases apart, the server's together.

A multi-user installation migrates unit by unit, each in a transaction of its own, so that
one user's bad file stops only that user. A unit whose transaction committed (every table
verified) is recorded in the target, in the migration history's schema
(``migrations.verified_units``), in the same transaction as its data: the record exists
exactly when the data does. A re-run skips a unit whose record still matches its files
(paths, sizes and modification times) and whose schemas still exist; ``--redo-all``
redoes every unit.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from ...commands import software_version
from ...redaction import describe_db_error
from ..backends.target import PgTarget
from ..instants import utc_now
from ..schemas.migrations import NAMESPACE, verified_units
from .history import create_history
from .options import SourceFile
from .target import schema_exists

SERVER_UNIT = "server databases"


@dataclass(frozen=True)
class Unit:
    """Sources that commit together: one user's databases, the server's, or one other file."""

    name: str
    sources: list[SourceFile]

    @property
    def namespaces(self) -> list[str]:
        return [s.target_namespace for s in self.sources]

    def fingerprint(self) -> str:
        """What the unit's files are now: a changed file makes a verified unit due again."""
        digest = hashlib.sha256()
        for source in sorted(self.sources, key=lambda s: str(s.path)):
            try:
                stat = source.path.stat()
                state = f"{stat.st_size}:{stat.st_mtime_ns}"
            except OSError:
                state = "missing"
            digest.update(f"{source.kind}\0{source.path.resolve()}\0{state}\n".encode())
        return digest.hexdigest()


def unit_name(source: SourceFile) -> str:
    if source.user_id is not None:
        return f"user {source.user_id}"
    if source.schema is None:
        return f"schema {source.target_namespace}"
    return SERVER_UNIT


def group_units(sources: list[SourceFile]) -> list[Unit]:
    """*sources* by unit: the server's databases first, then each user's, in the order given."""
    by_name: dict[str, list[SourceFile]] = {}
    for source in sources:
        by_name.setdefault(unit_name(source), []).append(source)
    names = sorted(by_name, key=lambda name: name != SERVER_UNIT)  # stable: users keep order
    return [Unit(name, by_name[name]) for name in names]


@dataclass(frozen=True)
class VerifiedRecord:
    fingerprint: str
    namespaces: list[str]
    verified_at: datetime


class UnitRecords:
    """The verified units recorded in one target (``migrations.verified_units``)."""

    def __init__(self, found: dict[str, VerifiedRecord]) -> None:
        self.found = found

    @classmethod
    def prepare(cls, target: PgTarget, conn: psycopg.Connection) -> UnitRecords | None:
        """The records of *target*, their table created first; None (a warning on stderr)
        when it cannot be created: the run then redoes every unit and records none."""
        engine = create_engine(target.sqlalchemy_url(), poolclass=NullPool)
        try:
            with engine.begin() as created:
                create_history(created)
        except Exception as exc:
            print(
                f"warning: cannot keep the record of verified users in {target.describe()} "
                f"(schema {NAMESPACE}): {describe_db_error(exc)}; every user is migrated",
                file=sys.stderr,
            )
            return None
        finally:
            engine.dispose()
        query = sql.SQL("SELECT unit, fingerprint, schemas, verified_at FROM {}").format(
            sql.Identifier(NAMESPACE, verified_units.name)
        )
        rows = conn.execute(query).fetchall()
        return cls(
            {
                str(unit): VerifiedRecord(str(fp), str(spaces).split(","), at)
                for unit, fp, spaces, at in rows
            }
        )

    def verified(self, conn: psycopg.Connection, unit: Unit) -> VerifiedRecord | None:
        """The record of *unit* if it still holds: same files, every schema still there."""
        record = self.found.get(unit.name)
        if record is None or record.fingerprint != unit.fingerprint():
            return None
        if not all(schema_exists(conn, ns) for ns in unit.namespaces):
            return None
        return record

    @staticmethod
    def write(conn: psycopg.Connection, unit: Unit) -> None:
        """Record *unit* as verified, inside the transaction that committed its data."""
        query = sql.SQL(
            "INSERT INTO {} (unit, fingerprint, schemas, verified_at, tool_version) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (unit) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, schemas = excluded.schemas, "
            "verified_at = excluded.verified_at, tool_version = excluded.tool_version"
        ).format(sql.Identifier(NAMESPACE, verified_units.name))
        values = (
            unit.name,
            unit.fingerprint(),
            ",".join(unit.namespaces),
            utc_now(),
            software_version(),
        )
        conn.execute(query, values)


__all__ = ["SERVER_UNIT", "Unit", "UnitRecords", "VerifiedRecord", "group_units"]
