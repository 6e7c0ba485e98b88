"""The workflow runtime beside the API: in threads, or in a supervised child process.

:func:`start_runtime` starts what the settings ask for (nothing when
``TLDW_WORKFLOW_WORKERS=0`` or the workflow package is not installed);
:class:`WorkerProcess` keeps the child alive, restarting it with a backoff while
it keeps dying young. Both are stopped with ``stop(timeout)`` at shutdown.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from .core.config import Settings, to_environment
from .core.DB_Management.registry import DatabaseRegistry
from .workflows_package import WORKFLOWS_PACKAGE, workflows_module_installed

log = logging.getLogger("tldw_server")

#: The worker process's ``nice`` increment: requests first (see :meth:`WorkerProcess._spawn`).
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


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


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


def start_runtime(registry: DatabaseRegistry, settings: Settings) -> Any:
    """Start the workflow runtime the settings ask for; ``None`` when there is none.

    The result (a :class:`WorkerProcess` or the in-thread ``WorkflowRuntime``) has
    ``stop(timeout)``.
    """
    if settings.workflow_workers < 1:
        log.info("Workflow runtime: disabled (TLDW_WORKFLOW_WORKERS=0)")
        return None
    if not workflows_module_installed("runtime"):
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
