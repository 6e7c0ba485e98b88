"""The API server: ``create_app(settings)`` and the ``tldw-server`` command.

Start-up (the app's lifespan), in order:

1. settings (environment > ``Config_Files/config.txt`` > defaults; see docs/configuration.md)
   and the API keys (see :mod:`tldw_Server_API.app.api.auth`);
2. every database opened, created or upgraded through one
   :class:`~.core.DB_Management.registry.DatabaseRegistry`, and one log line per
   database naming its backend, e.g. ``Media: PostgreSQL at
   127.0.0.1:5432/tldw_content (schema user_1_media), schema version 2 (created)``;
3. the workflow runtime (when ``app/core/Workflows/runtime.py`` is present and
   ``TLDW_WORKFLOW_WORKERS`` > 0).

Shutdown stops the runtime and closes every pool. Run it with::

    tldw-server [--host 127.0.0.1] [--port 8000]
    python -m tldw_Server_API.app.main [--host ...] [--port ...]

A configuration error prints a message naming the variable and exits with 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from .api.auth import ApiKeyAuth, build_auth, get_user_id
from .api.deps import get_registry
from .api.errors import ERROR_RESPONSES, BodySizeLimit, install_error_handlers
from .api.v1 import ROUTERS
from .core.commands import add_version_flag, program_name
from .core.config import ConfigError, Settings, load_settings, to_environment
from .core.DB_Management.backends.base import Database
from .core.DB_Management.backends.unreachable import (
    DatabaseUnavailable,
    debug_enabled,
    is_open_failure,
)
from .core.DB_Management.init_db import open_failure
from .core.DB_Management.registry import DatabaseRegistry
from .core.RAG.service import RagService
from .core.redaction import AccessLogWithoutQueryValues, install_redaction

log = logging.getLogger("tldw_server")
#: The exit code of a server that could not start (as uvicorn's own).
STARTUP_FAILED = 3

WORKFLOWS_PACKAGE = f"{__package__}.core.Workflows"
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _module_present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def describe_database(registry: DatabaseRegistry, database: Database, multi_user: bool) -> str:
    """The start-up line of one database: its name, where it is, its schema version (no secret)."""
    name = database.schema.title
    if multi_user and database.user_id is not None:
        name = f"{name} (user {database.user_id})"
    state = registry.states.get((database.schema.name, database.user_id))
    outcome = ""
    if state is not None:
        outcome = f" ({state.outcome}"
        if state.outcome == "upgraded":
            outcome += f" from version {state.from_version}"
        outcome += ")"
    return f"{name}: {database.describe()}, schema version {database.version}{outcome}"


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


WORKER_NICENESS = 10


#: Seconds before restarting a worker process that died: doubled after each death that
#: follows a short life (a worker that cannot start must not spin), up to the last value.
RESTART_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
#: A worker that ran this long before dying was healthy: the next restart is quick again.
STABLE_SECONDS = 60.0


def restart_delay(deaths: int) -> float:
    """Seconds to wait before the restart that follows the *deaths*-th early death."""
    return RESTART_DELAYS[min(max(deaths, 1), len(RESTART_DELAYS)) - 1]


def describe_exit(returncode: int) -> str:
    """``exited with code 3`` or ``was killed by SIGKILL`` for a child's return code."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


class WorkerProcess:
    """The workflow runtime in a child process (``TLDW_WORKFLOW_WORKER_MODE=process``), supervised.

    Its worker threads then never compete with the API's request handling for the
    interpreter lock: ``/api/v1/workflows/status`` stays fast while runs execute.
    A supervisor thread waits on the child: when it dies (a crash, the OOM killer,
    a stray ``kill``) it is reaped, one line says how it ended, and a new one is
    started after :data:`RESTART_DELAYS` (a backoff while it keeps dying young).
    """

    def __init__(self, settings: Settings) -> None:
        self._command = [
            sys.executable,
            "-m",
            f"{WORKFLOWS_PACKAGE}.worker",
            "--workers",
            str(settings.workflow_workers),
            "--parent-pid",
            str(os.getpid()),
        ]
        self._env = os.environ | to_environment(settings)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process = self._spawn()
        self._started_at = time.monotonic()
        self._supervisor = threading.Thread(
            target=self._supervise, name="wf-worker-supervisor", daemon=True
        )
        self._supervisor.start()

    @property
    def pid(self) -> int:
        """The current worker process's id (a new one after each restart)."""
        return self._process.pid

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self._command,
            env=self._env,
            # Requests first: runs tolerate a few milliseconds of delay, a polled
            # status endpoint or an interactive request less so.
            preexec_fn=_lower_priority,
        )

    def _supervise(self) -> None:
        deaths = 0
        while True:
            process = self._process
            returncode = process.wait()  # reaps it: no defunct child is left behind
            if self._stopping.is_set():
                return
            lived = time.monotonic() - self._started_at
            deaths = 1 if lived >= STABLE_SECONDS else deaths + 1
            log.error(
                "Workflow worker process %d %s after %.0f s; restarting it in %.1f s",
                process.pid,
                describe_exit(returncode),
                lived,
                restart_delay(deaths),
            )
            if not self._restart(deaths):
                return

    def _restart(self, deaths: int) -> bool:
        """Start a new worker after the wait for *deaths*; False once the server stops."""
        while not self._stopping.wait(restart_delay(deaths)):
            with self._lock:
                if self._stopping.is_set():
                    return False
                try:
                    self._process = self._spawn()
                except OSError as exc:  # e.g. out of processes: wait longer, try again
                    log.error("Workflow worker process could not be started: %s", exc)
                    deaths += 1
                    continue
                self._started_at = time.monotonic()
            log.info("Workflow worker process restarted (pid %d)", self._process.pid)
            return True
        return False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the worker hands its runs back to the queue), then SIGKILL if it hangs."""
        with self._lock:
            self._stopping.set()
            process = self._process
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._supervisor.join(timeout)


def _start_runtime(registry: DatabaseRegistry, settings: Settings) -> Any:
    if settings.workflow_workers < 1:
        log.info("Workflow runtime: disabled (TLDW_WORKFLOW_WORKERS=0)")
        return None
    if not _module_present(f"{WORKFLOWS_PACKAGE}.runtime"):
        log.info("Workflow runtime: not installed")
        return None
    if settings.workflow_worker_mode == "process":
        process = WorkerProcess(settings)
        log.info(
            "Workflow runtime: started in a worker process with %d worker(s)",
            settings.workflow_workers,
        )
        return process
    runtime_module = importlib.import_module(f"{WORKFLOWS_PACKAGE}.runtime")
    runtime = runtime_module.WorkflowRuntime(registry, workers=settings.workflow_workers)
    runtime.start()
    log.info("Workflow runtime: started with %d worker(s)", settings.workflow_workers)
    return runtime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    auth: ApiKeyAuth = app.state.auth
    registry = DatabaseRegistry(settings)
    app.state.registry = registry
    multi_user = settings.auth_mode == "multi_user"
    users = auth.user_ids if multi_user else [settings.default_user_id]
    try:
        opened = registry.open_all(sorted(set(users) | {settings.default_user_id}))
    except Exception as exc:
        registry.close()
        if not is_open_failure(exc):
            log.error("cannot open the %s databases", BACKEND_NAMES[registry.kind])
            raise
        unavailable = open_failure(exc, settings)
        log.error("%s", unavailable, exc_info=exc if debug_enabled() else None)
        raise unavailable from None
    log.info(
        "Content backend: %s (%s mode, %d user(s))",
        BACKEND_NAMES[registry.kind],
        settings.auth_mode,
        len(users),
    )
    for database in opened:
        log.info("%s", describe_database(registry, database, multi_user))
    auth.announce()
    runtime = None
    app.state.rag = RagService(registry, settings, users).start()
    try:
        runtime = _start_runtime(registry, settings)
        app.state.workflow_runtime = runtime
        yield
    finally:
        app.state.rag.stop()
        if runtime is not None:
            runtime.stop(timeout=10.0)
            log.info("Workflow runtime: stopped")
        registry.close()
        log.info("Databases closed")


class HideStartupTraceback(logging.Filter):
    """uvicorn logs a failed start-up's traceback; for a database that cannot be opened
    the one line already said it all (``TLDW_DEBUG=1`` shows the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Traceback") and DatabaseUnavailable.__name__ in message)


def install_log_safety(settings: Settings) -> None:
    """Secrets masked in every log line; the access log without query values."""
    secrets = (
        settings.pg_password,
        settings.single_user_api_key,
        settings.embedding_api_key,
        settings.chat_api_key,
    )
    install_redaction(secrets, extra_loggers=UVICORN_LOGGERS)
    logging.getLogger("uvicorn.access").addFilter(AccessLogWithoutQueryValues())
    if not debug_enabled():
        logging.getLogger("uvicorn.error").addFilter(HideStartupTraceback())


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application for *settings* (default: loaded from the environment).

    Raises :class:`ConfigError` for invalid settings or API keys, before anything starts.
    """
    settings = settings or load_settings()
    auth = build_auth(settings)
    app = FastAPI(
        title="tldw_server",
        version="0.1.0",
        summary="Media, notes, chats, search, analytics and workflows on SQLite or PostgreSQL.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.auth = auth
    app.state.workflow_runtime = None
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if _module_present(f"{WORKFLOWS_PACKAGE}.api"):
        workflows_api = importlib.import_module(f"{WORKFLOWS_PACKAGE}.api")
        app.include_router(workflows_api.build_router(get_registry, get_user_id))
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app


# -- command line ------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name("tldw-server", "tldw_Server_API.app.main"),
        description="Serve the tldw API (settings: environment, then Config_Files/config.txt).",
    )
    add_version_flag(parser)
    parser.add_argument("--host", help="address to listen on (default: TLDW_SERVER_HOST)")
    parser.add_argument("--port", type=_port, help="port to listen on (default: TLDW_SERVER_PORT)")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    return parser


def _freeze_startup_objects() -> None:
    """Exempt what exists before serving (modules, routes, schemas) from garbage collection.

    They live as long as the process, yet every full collection walked them all:
    under load that was a pause of ~80 ms in the middle of some request.
    """
    gc.collect()
    gc.freeze()


def run(argv: Sequence[str] | None = None) -> int:
    """``tldw-server``: serve the API with uvicorn; 2 on a configuration error."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings()
        app = create_app(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    config = uvicorn.Config(
        app,
        host=args.host or settings.server_host,
        port=args.port or settings.server_port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )
    install_log_safety(settings)  # after uvicorn.Config, which sets its loggers up
    _freeze_startup_objects()
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C before its handlers
        server.run()
    if not server.started:
        return STARTUP_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(run())
