"""The SQLite layout our users already have (``content-schema.md``), as DDL.

The migration tool, its tests and the benchmarks need files shaped exactly like the ones in the
field: CamelCase tables in the media file, the sync columns, foreign keys with their ``ON DELETE``
actions, the reference cycles of ChaChaNotes, and FTS5 external-content tables kept in step by
triggers. This package is the one place that layout is written down as SQL, so nothing else has
to guess it (a module per file kind, the shared pieces in ``layout``). It describes *their*
files; it is not our schema (see ``schemas/``).

Users ran different server versions, so a file comes in one of several *layouts*:

- ``early``: the media core without ``DocumentVersionIdentifiers`` and ``Claims``
  (``schema_version`` 1);
- ``late-2025``: the media core as the spec's main table lists it (``schema_version`` 6);
- ``current`` (the default): media schema version 23, the core plus the spec's "Current
  installations" additions, plus tables the spec names without columns (claims review, TTS
  history, data tables, email, content items) with columns chosen here as plausible stand-ins
  for tables our server does not know, and a column and a table a user added by hand.

ChaChaNotes differs between layouts only in its ``db_schema_version`` row; Analytics.db is the
same in all. workflows.db names its step table ``workflow_step_runs`` (older files, the default)
or ``workflow_steps`` (newer ones, same columns): see ``steps_table``.

Where the spec leaves a type or a default open, the choice follows the conventions the spec
states: times are ``DATETIME`` in the content files and ``TIMESTAMP`` in Analytics.db, ChaChaNotes'
``created_at``/``last_modified`` are ``DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP`` (as the spec
says of character cards), and workflows.db keeps ids and times as ``TEXT``. Analytics.db keeps the
spec's short type names (``INT``, ``BOOL``) as its tables declare them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from .analytics import ANALYTICS_DDL
from .chacha import CHACHA_FTS, CHACHA_TABLES
from .layout import (
    CHACHA_SCHEMA_VERSION,
    DEFAULT_LAYOUT,
    DEFAULT_STEPS_TABLE,
    KINDS,
    LAYOUTS,
    STEP_TABLES,
    Fts,
    LegacyLayout,
    table_names,
)
from .media import media_ddl, media_fts
from .workflows import WORKFLOWS_TEMPLATE

__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_STEPS_TABLE",
    "KINDS",
    "LAYOUTS",
    "LEGACY_DDL",
    "LEGACY_FTS",
    "LEGACY_TABLES",
    "STEP_TABLES",
    "LegacyLayout",
    "create_legacy_database",
    "legacy_layout",
]


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {list(choices)}")


def legacy_layout(
    kind: str, layout: str = DEFAULT_LAYOUT, *, steps_table: str = DEFAULT_STEPS_TABLE
) -> LegacyLayout:
    """The layout of a *kind* file written by the server version *layout*.

    *steps_table* names workflows.db's step table (ignored for other kinds).
    """
    _check_choice("legacy database kind", kind, KINDS)
    _check_choice("layout", layout, LAYOUTS)
    _check_choice("workflow steps table", steps_table, STEP_TABLES)
    fts: tuple[Fts, ...] = ()
    if kind == "media":
        fts = media_fts(layout)
        tables_ddl = media_ddl(layout)
    elif kind == "chacha":
        fts = CHACHA_FTS
        tables_ddl = CHACHA_TABLES + (
            "INSERT INTO db_schema_version (schema_name, version) "
            f"VALUES ('ChaChaNotes', {CHACHA_SCHEMA_VERSION[layout]});\n"
        )
    elif kind == "analytics":
        tables_ddl = ANALYTICS_DDL
    else:
        tables_ddl = WORKFLOWS_TEMPLATE.format(steps_table=steps_table)
    return LegacyLayout(
        kind=kind,
        layout=layout,
        ddl=tables_ddl + "".join(f.ddl() for f in fts),
        tables=table_names(tables_ddl),
        fts={f.name: f.table for f in fts},
    )


_CURRENT = {kind: legacy_layout(kind) for kind in KINDS}

LEGACY_DDL: dict[str, str] = {kind: layout.ddl for kind, layout in _CURRENT.items()}
"""One ``executescript`` script per legacy file kind (default layout), creating its layout."""

LEGACY_TABLES: dict[str, tuple[str, ...]] = {
    kind: layout.tables for kind, layout in _CURRENT.items()
}
"""The ordinary tables of each kind in the default layout (no FTS tables), in DDL order."""

LEGACY_FTS: dict[str, dict[str, str]] = {
    kind: dict(layout.fts) for kind, layout in _CURRENT.items()
}
"""FTS5 table -> the table it indexes, per kind (default layout): derived data."""


def create_legacy_database(
    kind: str,
    path: Path,
    layout: str = DEFAULT_LAYOUT,
    *,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> LegacyLayout:
    """Create a new SQLite file at *path* with the legacy layout of *kind*; returns the layout.

    Refuses to touch an existing non-empty file: running the DDL over a user's file would fail
    half-way, and overwriting one would destroy data. The script runs in one transaction so a
    failure leaves no half-built layout behind.
    """
    chosen = legacy_layout(kind, layout, steps_table=steps_table)
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise FileExistsError(
            f"{path} already exists; legacy layouts are only created in new files"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript("BEGIN;\n" + chosen.ddl + "\nCOMMIT;")
    finally:
        conn.close()
    return chosen
