"""The SQLite side: open a file read-only in one read transaction and describe it.

Everything the migration reads from a file (catalog, checks, rows, checksums)
happens inside one read transaction, so an application writing meanwhile, in
WAL or rollback-journal mode, cannot tear the copy. The migration never
writes a source file, and leaves none beside it: see :func:`open_source`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..backends.sqlite import quote_sqlite
from .casts import InvalidUtf8
from .errors import UsageError

FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
FTS4_SHADOW_SUFFIXES = ("_segments", "_segdir", "_stat")


@dataclass(frozen=True)
class SourceColumn:
    name: str
    declared_type: str
    not_null: bool
    default: str | None
    pk_position: int


@dataclass(frozen=True)
class SourceForeignKey:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    on_delete: str


@dataclass(frozen=True)
class SourceIndex:
    name: str
    columns: tuple[str, ...]
    unique: bool
    origin: str  # 'c' CREATE INDEX, 'u' UNIQUE constraint, 'pk' primary key


@dataclass
class SourceTable:
    """One ordinary table of the source file."""

    name: str
    columns: list[SourceColumn]
    foreign_keys: list[SourceForeignKey]
    indexes: list[SourceIndex]
    row_count: int
    has_rowid: bool
    autoincrement_seq: int | None = None
    sql: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> list[str]:
        pk = sorted((c for c in self.columns if c.pk_position), key=lambda c: c.pk_position)
        return [c.name for c in pk]

    @property
    def key_expression(self) -> list[str]:
        """What identifies a row in messages: the primary key, else the rowid."""
        return self.primary_key or (["rowid"] if self.has_rowid else self.column_names)


@dataclass
class SourceCatalog:
    """The tables of one SQLite file worth migrating, and those skipped by nature."""

    path: Path
    tables: dict[str, SourceTable] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def find(self, name: str) -> SourceTable | None:
        for table in self.tables.values():
            if table.name.lower() == name.lower():
                return table
        return None


def tolerant_text(data: bytes) -> str | InvalidUtf8:
    """SQLite text as ``str``, or as :class:`InvalidUtf8` when its bytes are not UTF-8.

    The default decoder raises in the middle of a fetch, naming neither row nor
    table; this one hands the bytes on so that the casts can name the value and
    apply ``--on-invalid-utf8``.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidUtf8(data)


def _in_wal_mode(path: Path) -> bool:
    """Whether the file's header says WAL (read and write versions 2)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18] == 2


def _uri(path: Path) -> str:
    """Read-only (``mode=ro``), except for an idle WAL-mode file (see :func:`open_source`)."""
    resolved = path.resolve()
    idle_wal = (
        _in_wal_mode(resolved)
        and not Path(f"{resolved}-wal").exists()
        and os.access(resolved, os.W_OK)
        and os.access(resolved.parent, os.W_OK)
    )
    return f"file:{quote(str(resolved))}?mode={'rw' if idle_wal else 'ro'}"


def open_source(path: Path) -> sqlite3.Connection:
    """Open *path* for reading and start the read transaction everything else runs in.

    The file is opened ``mode=ro``. One case differs: a WAL-mode file that no
    application has open (no ``-wal`` file beside it). A read-only connection
    would create ``-wal`` and ``-shm`` files it cannot remove again; a
    connection opened read-write, but with ``PRAGMA query_only`` so that no
    statement can write, removes them when it closes, leaving the directory as
    it found it.
    """
    if not path.exists():
        raise UsageError(f"{path}: no such SQLite file")
    try:
        conn = sqlite3.connect(_uri(path), uri=True, isolation_level=None, check_same_thread=False)
        conn.text_factory = tolerant_text  # type: ignore[assignment]
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")
        # The snapshot is taken at the first read, so read now.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"{path}: not a readable SQLite database ({exc})") from None
    return conn


def _shadow_names(virtual: list[str]) -> set[str]:
    names: set[str] = set()
    for table in virtual:
        names |= {f"{table}{s}".lower() for s in FTS_SHADOW_SUFFIXES + FTS4_SHADOW_SUFFIXES}
    return names


def read_catalog(conn: sqlite3.Connection, path: Path) -> SourceCatalog:
    """Describe every ordinary table; FTS tables, their shadows and ``sqlite_*`` are skipped."""
    catalog = SourceCatalog(path=path)
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall()
    virtual = [n for n, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = _shadow_names(virtual)
    sequences = _autoincrement_sequences(conn)
    for name, sql in rows:
        if name.lower().startswith("sqlite_"):
            catalog.skipped[name] = "SQLite internal table"
        elif name in virtual:
            catalog.skipped[name] = "virtual (full-text) table: rebuilt on the target"
        elif name.lower() in shadows:
            catalog.skipped[name] = "full-text shadow table: rebuilt on the target"
        else:
            catalog.tables[name] = _describe(conn, name, sql or "", sequences.get(name.lower()))
    return catalog


def _autoincrement_sequences(conn: sqlite3.Connection) -> dict[str, int]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()
    if not exists:
        return {}
    return {
        str(n).lower(): int(s) for n, s in conn.execute("SELECT name, seq FROM sqlite_sequence")
    }


def _describe(conn: sqlite3.Connection, name: str, sql: str, seq: int | None) -> SourceTable:
    q = quote_sqlite(name)
    columns = [
        SourceColumn(
            name=row[1],
            declared_type=(row[2] or "").strip(),
            not_null=bool(row[3]),
            default=row[4],
            pk_position=int(row[5]),
        )
        for row in conn.execute(f"PRAGMA table_xinfo({q})")
        if row[6] in (0, 1)  # 2 and 3 are generated columns: derived, not copied
    ]
    fks: dict[int, list[tuple]] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({q})"):
        fks.setdefault(row[0], []).append(row)
    foreign_keys = [
        SourceForeignKey(
            columns=tuple(r[3] for r in parts),
            parent=parts[0][2],
            parent_columns=tuple(r[4] for r in parts if r[4] is not None),
            on_delete=str(parts[0][6]),
        )
        for parts in fks.values()
    ]
    indexes = []
    for row in conn.execute(f"PRAGMA index_list({q})"):
        cols = tuple(
            r[2] for r in conn.execute(f"PRAGMA index_info({quote_sqlite(row[1])})") if r[2]
        )
        indexes.append(SourceIndex(name=row[1], columns=cols, unique=bool(row[2]), origin=row[3]))
    count = conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0]
    has_rowid = "WITHOUT ROWID" not in sql.upper()
    return SourceTable(
        name=name,
        columns=columns,
        foreign_keys=foreign_keys,
        indexes=indexes,
        row_count=int(count),
        has_rowid=has_rowid,
        autoincrement_seq=seq,
        sql=sql,
    )
