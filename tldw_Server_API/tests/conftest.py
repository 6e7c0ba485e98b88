"""Shared fixtures: a real PostgreSQL (see postgres_harness) and fresh databases on it, and
local HTTP servers that record what they receive (``http_server``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.config import Settings, load_settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.tests.postgres_harness import choose_test_server, fresh_database


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgTarget]:
    """The maintenance database of the test PostgreSQL server."""
    with choose_test_server() as (target, source):
        print(f"\n[tests] PostgreSQL from {source}: {target.describe()}")
        yield target


@pytest.fixture(scope="module")
def pg_target(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh, empty database for one test module."""
    with fresh_database(pg_server) as target:
        yield target


@pytest.fixture
def pg_database(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh, empty database for one test."""
    with fresh_database(pg_server) as target:
        yield target


def settings_for(
    kind: str, data_dir: Path, target: PgTarget | None = None, **extra: object
) -> Settings:
    """Settings for *kind* ("sqlite" or "postgresql") with files under *data_dir*."""
    values: dict[str, object] = {"content_db_backend": kind, "data_dir": data_dir}
    if target is not None:
        values |= {
            "pg_host": target.host,
            "pg_port": target.port,
            "pg_database": target.database,
            "pg_user": target.user,
            "pg_password": target.password,
        }
    return load_settings(env={}, config_file=data_dir / "no-config.txt", **(values | extra))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    """Run the test once per backend."""
    return str(request.param)


@pytest.fixture
def settings(backend_kind: str, tmp_path: Path, pg_server: PgTarget) -> Iterator[Settings]:
    """Settings for a fresh installation on the parametrised backend."""
    if backend_kind == "sqlite":
        yield settings_for("sqlite", tmp_path / "Databases")
        return
    with fresh_database(pg_server) as target:
        yield settings_for("postgresql", tmp_path / "Databases", target)


@pytest.fixture
def registry(settings: Settings) -> Iterator[DatabaseRegistry]:
    """Handles to a fresh installation's databases on the parametrised backend."""
    registry = DatabaseRegistry(settings)
    try:
        yield registry
    finally:
        registry.close()


@dataclass
class Recorder:
    """What a :func:`http_server` received, and how it answers (a list of status codes)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def http_server() -> Iterator[Callable[[list[int]], tuple[str, Recorder]]]:
    """Start local servers on 127.0.0.1 that answer with the given statuses, then 200."""
    servers: list[ThreadingHTTPServer] = []

    def start(statuses: list[int]) -> tuple[str, Recorder]:
        recorder = Recorder(statuses=list(statuses))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                code = recorder.next_status()
                with recorder.lock:
                    recorder.requests.append(
                        {
                            "path": self.path,
                            "body": json.loads(body or "null"),
                            "status": code,
                            "headers": dict(self.headers),
                        }
                    )
                reply = json.dumps({"ok": code < 400, "seen": len(recorder.requests)}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/hook", recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
