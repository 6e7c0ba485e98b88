"""What a database schema declares, independent of any dialect.

A :class:`DatabaseSchema` holds the SQLAlchemy tables of one database plus the
things SQLAlchemy cannot express portably: which tables are searchable (and
with which weights), which are synced (version rule, ``sync_log`` entries),
how the schema version is recorded, and the upgrade steps between versions.
The dialect modules in ``backends/`` render these declarations; nothing here
knows about SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, Table, Text

from .types import Double, Flag, Instant, Int, Json, Key, Uuid

if TYPE_CHECKING:
    from .upgrades import UpgradeContext


@dataclass(frozen=True)
class SearchIndex:
    """A full-text index over some text columns of a table.

    ``columns`` pairs each column with its weight: ``A`` ranks above ``B``
    (titles above bodies). Only live rows (``deleted`` false) are found.
    """

    name: str
    table: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def title_columns(self) -> tuple[str, ...]:
        return tuple(name for name, weight in self.columns if weight == "A")

    @property
    def ranks_titles(self) -> bool:
        """Whether a title hit ranks first: some columns are titles, and not all of them."""
        return bool(self.title_columns) and len(self.title_columns) < len(self.columns)


@dataclass(frozen=True)
class SyncedTable:
    """A table whose rows carry sync columns: every change is logged, ``version`` grows by 1."""

    table: str
    entity: str
    key: str = "uuid"


@dataclass(frozen=True)
class SyncLog:
    """The change log of a database; ``key_column`` holds the changed row's key."""

    table: str = "sync_log"
    key_column: str = "entity_uuid"


VERSION_TABLE = "tldw_schema"


@dataclass(frozen=True)
class VersionRecord:
    """Where our schema version is recorded: a row ``(schema_name, version)`` of ``tldw_schema``.

    Our users' files keep *their* server's version in ``schema_version`` (Media)
    and ``db_schema_version`` (ChaChaNotes), with numbers of their own (6 in late
    2025, 23 today). Those tables are the users' data: we copy them and never
    read or write their numbers, so the two numberings cannot collide.
    """

    schema_name: str
    table: str = VERSION_TABLE


def version_table(metadata: MetaData) -> Table:
    """The ``tldw_schema`` table of one database's metadata."""
    return Table(
        VERSION_TABLE,
        metadata,
        Column("schema_name", Text, primary_key=True),
        Column("version", Int, nullable=False),
    )


@dataclass(frozen=True)
class Upgrade:
    """One step from ``to_version - 1`` to ``to_version`` (and back, for tests and rollbacks)."""

    to_version: int
    description: str
    upgrade: Callable[[UpgradeContext], None]
    downgrade: Callable[[UpgradeContext], None]


@dataclass(frozen=True)
class DatabaseSchema:
    """One of our four databases, declared once for both dialects."""

    name: str
    title: str
    metadata: MetaData
    version: int
    per_user: bool
    search: tuple[SearchIndex, ...] = ()
    synced: tuple[SyncedTable, ...] = ()
    sync_log: SyncLog | None = None
    upgrades: tuple[Upgrade, ...] = ()
    legacy_table_names: dict[str, str] = field(default_factory=dict)
    sqlite_file: str = ""

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]

    @property
    def version_record(self) -> VersionRecord:
        """Where our version of this database is recorded: the row named after the schema."""
        return VersionRecord(self.name)

    @property
    def data_tables(self) -> list[Table]:
        """Tables in foreign-key order, without the version record."""
        return [t for t in self.metadata.sorted_tables if t.name != self.version_record.table]

    def search_index(self, name: str) -> SearchIndex:
        for index in self.search:
            if index.name == name:
                return index
        raise KeyError(name)


def sync_columns(*, client_default: str | None = None) -> list[Column]:
    """The sync columns every synced table carries (content-schema.md)."""
    return [
        Column("uuid", Uuid, nullable=False, unique=True),
        Column("last_modified", Instant, nullable=False),
        Column("version", Key, nullable=False, server_default="1"),
        Column("client_id", Uuid, nullable=False, server_default=client_default),
        Column("deleted", Flag, nullable=False, server_default="0"),
        Column("prev_version", Key),
        Column("merge_parent_uuid", Uuid),
    ]


__all__ = [
    "VERSION_TABLE",
    "DatabaseSchema",
    "Double",
    "Flag",
    "Instant",
    "Json",
    "Key",
    "SearchIndex",
    "SyncLog",
    "SyncedTable",
    "Upgrade",
    "VersionRecord",
    "sync_columns",
    "version_table",
]
