"""``--rehearse``: the whole migration into a throw-away embedded PostgreSQL, verified.

A user tries the cut-over before doing it, with no server of their own: the
sources are the files named on the command line, else the installation under
``--data-dir``; with no files at all, a sample installation in the layout our
users have is generated first, so the command shows what a migration does on
a fresh machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ..backends.embedded import EmbeddedPostgresUnavailable, start_embedded_postgres
from .errors import UsageError
from .run import MigrationResult


def rehearse(args: argparse.Namespace, env: dict[str, str]) -> MigrationResult:
    from ..migration_tools import discover_installation, execute, sources_from_args

    sources = sources_from_args(args)
    if not args.all_users and not sources:
        sources = discover_installation(args.data_dir)
    sample_dir: Path | None = None
    if not sources:
        sample_dir = Path(tempfile.mkdtemp(prefix="tldw-sample-"))
        print(
            f"rehearse: no SQLite files under {args.data_dir}/; generating a sample installation "
            f"in {sample_dir}",
            file=sys.stderr,
        )
        from ..sample_data import generate_installation

        generate_installation(sample_dir, users=["1", "2"], media_items=300)
        sources = discover_installation(sample_dir)
    if not sources:
        raise UsageError("rehearse: nothing to migrate")
    try:
        server = start_embedded_postgres("tldw_rehearsal")
    except EmbeddedPostgresUnavailable as exc:
        raise UsageError(str(exc)) from None
    with server:
        print(f"rehearse: embedded {server.target.describe()}", file=sys.stderr)
        args.create_schema = True
        result = execute(args, sources, server.target)
    if sample_dir is not None:
        shutil.rmtree(sample_dir, ignore_errors=True)
    print(
        "rehearse: the embedded server and its data are gone; your files were only read",
        file=sys.stderr,
    )
    return result
