"""What a legacy layout is, and the pieces every legacy file shares.

The names of the file kinds, the server versions' layouts and workflows.db's two
step-table names; :class:`LegacyLayout`, the record :func:`legacy_layout` returns; the
sync columns and ChaChaNotes' time columns; and :class:`Fts`, an FTS5 external-content
table with the triggers that keep it in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("media", "chacha", "analytics", "workflows")
"""The legacy file kinds."""

LAYOUTS: tuple[str, ...] = ("early", "late-2025", "current")
"""Server versions whose files differ, oldest first."""

DEFAULT_LAYOUT = "current"

STEP_TABLES: tuple[str, ...] = ("workflow_step_runs", "workflow_steps")
"""The two names workflows.db files give their step table (older, newer)."""

DEFAULT_STEPS_TABLE = "workflow_step_runs"

MEDIA_SCHEMA_VERSION: dict[str, int] = {"early": 1, "late-2025": 6, "current": 23}
"""The ``schema_version`` row of a media file, per layout."""

CHACHA_SCHEMA_VERSION: dict[str, int] = {"early": 1, "late-2025": 5, "current": 9}
"""The ``db_schema_version`` row ('ChaChaNotes', n) of a notes file, per layout."""

# The sync columns of every synced table ("+sync" in the spec), verbatim.
SYNC_COLUMNS = """
    uuid TEXT UNIQUE NOT NULL,
    last_modified DATETIME NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    client_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    prev_version INTEGER,
    merge_parent_uuid TEXT"""

# ChaChaNotes' own bookkeeping columns (no uuid: its text primary keys are the uuids).
CHACHA_TIMES = """
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT 0"""


@dataclass(frozen=True)
class Fts:
    """One FTS5 table over *table*; ``content=''`` when *contentless*."""

    name: str
    table: str
    columns: tuple[str, ...]
    key: str = "rowid"
    contentless: bool = False
    live_only: bool = True  # index only rows with deleted = 0

    def ddl(self) -> str:
        """The FTS5 table and the triggers that keep it current.

        Only live rows (``deleted = 0``) are indexed where the table has the flag. External
        content and contentless tables alike lose a row through FTS5's ``'delete'`` command with
        the values it was indexed with (the ``old`` row), never through ``DELETE FROM``.
        """
        fts, table, key = self.name, self.table, self.key
        cols = ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        content = "''" if self.contentless else f"'{table}'"
        rowid_option = "" if key == "rowid" or self.contentless else f", content_rowid='{key}'"
        when_new = " WHEN new.deleted = 0" if self.live_only else ""
        when_old = " WHEN old.deleted = 0" if self.live_only else ""
        where_old = " WHERE old.deleted = 0" if self.live_only else ""
        where_new = " WHERE new.deleted = 0" if self.live_only else ""
        watched = f"{cols}, deleted" if self.live_only else cols
        return f"""
CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content={content}{rowid_option});
CREATE TRIGGER {fts}_ai AFTER INSERT ON {table}{when_new} BEGIN
    INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new});
END;
CREATE TRIGGER {fts}_ad AFTER DELETE ON {table}{when_old} BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old});
END;
CREATE TRIGGER {fts}_au AFTER UPDATE OF {watched} ON {table} BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) SELECT 'delete', old.{key}, {old}{where_old};
    INSERT INTO {fts}(rowid, {cols}) SELECT new.{key}, {new}{where_new};
END;
"""


@dataclass(frozen=True)
class LegacyLayout:
    """One file kind in one layout: its DDL, its ordinary tables and its FTS tables."""

    kind: str
    layout: str
    ddl: str
    tables: tuple[str, ...]
    """The ordinary tables (no FTS tables or their shadow tables), in DDL order."""
    fts: Mapping[str, str]
    """FTS5 table -> the table it indexes: derived data a migration rebuilds."""


def table_names(ddl: str) -> tuple[str, ...]:
    """The ordinary tables a script creates, in order (virtual tables are not matched)."""
    return tuple(re.findall(r"^CREATE TABLE (\w+) \(", ddl, flags=re.MULTILINE))
