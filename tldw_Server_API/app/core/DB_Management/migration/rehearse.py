"""Rehearse a migration: the whole of it into a throw-away embedded PostgreSQL, verified.

A user tries the cut-over before doing it, with no server of their own: the
sources are the files given, else the installation under *data_dir*; with no
files at all, a sample installation in the layout our users have is generated
first, so a rehearsal shows what a migration does on a fresh machine.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..backends.embedded import EmbeddedPostgresUnavailable, start_embedded_postgres
from .errors import UsageError
from .options import RunOptions, SourceFile, discover_installation
from .results import MigrationResult, Progress, UnitProgress
from .run import migrate

#: Users and media items of the sample installation a rehearsal with no files generates.
SAMPLE_USERS = ("1", "2")
SAMPLE_MEDIA_ITEMS = 300


def _silent(_line: str) -> None:
    return None


def rehearse(
    sources: list[SourceFile],
    options: RunOptions,
    data_dir: Path,
    *,
    progress: Progress | None = None,
    units: UnitProgress | None = None,
    notify: Callable[[str], None] = _silent,
) -> MigrationResult:
    """Migrate *sources* (else the installation under *data_dir*, else a generated sample)
    into a throw-away embedded server, creating its schemas; *notify* hears each stage.

    The server and its data are gone when this returns; the files are only read.
    """
    if not sources:
        sources = discover_installation(data_dir)
    sample_dir: Path | None = None
    if not sources:
        sample_dir = Path(tempfile.mkdtemp(prefix="tldw-sample-"))
        notify(
            f"rehearse: no SQLite files under {data_dir}/; generating a sample installation "
            f"in {sample_dir}"
        )
        from ..sample_data import generate_installation

        generate_installation(sample_dir, users=list(SAMPLE_USERS), media_items=SAMPLE_MEDIA_ITEMS)
        sources = discover_installation(sample_dir)
    if not sources:
        raise UsageError("rehearse: nothing to migrate")
    try:
        server = start_embedded_postgres("tldw_rehearsal")
    except EmbeddedPostgresUnavailable as exc:
        raise UsageError(str(exc)) from None
    with server:
        notify(f"rehearse: embedded {server.target.describe()}")
        run = replace(options, create_schema=True).migrating(sources, server.target)
        result = migrate(run, progress=progress, units=units)
    if sample_dir is not None:
        shutil.rmtree(sample_dir, ignore_errors=True)
    notify("rehearse: the embedded server and its data are gone; your files were only read")
    return result
