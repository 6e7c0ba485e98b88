"""A workflow worker process: ``python -m tldw_Server_API.app.core.Workflows.worker``.

It reads the same configuration as the server (``TLDW_*`` variables,
``Config_Files/config.txt``), opens the workflows database (SQLite file or
PostgreSQL schema), and executes queued runs with ``--workers`` threads until
SIGTERM or SIGINT (or, with ``--parent-pid``, until the server that started
it is gone), when it gives its unfinished runs back to the queue and exits.
Runs of a worker that is killed outright are taken over by another worker
within ``--lease-seconds`` + ``--heartbeat-seconds`` (see ``runtime.py``).

It prints one line when it is ready::

    workflow worker <worker_id> ready: 2 thread(s) on SQLite at Databases/workflows.db
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from ..commands import command_parser
from ..config import ConfigError, load_settings
from ..DB_Management.registry import DatabaseRegistry
from ..DB_Management.stores.workflows import DEFAULT_LEASE_SECONDS
from ..redaction import install_redaction
from .runtime import DEFAULT_HEARTBEAT_SECONDS, WorkflowRuntime


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        None,
        "tldw_Server_API.app.core.Workflows.worker",
        "Execute queued workflow runs from the configured workflows database.",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker threads (default: TLDW_WORKFLOW_WORKERS, at least 1)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=None,
        help=f"default: TLDW_WORKFLOW_LEASE_SECONDS, else {DEFAULT_LEASE_SECONDS:g}",
    )
    parser.add_argument(
        "--heartbeat-seconds",
        type=float,
        default=None,
        help=f"default: TLDW_WORKFLOW_HEARTBEAT_SECONDS, else {DEFAULT_HEARTBEAT_SECONDS:g}",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=None,
        help="how often an idle worker looks for runs unasked (default: 5 s on PostgreSQL, "
        "where submissions wake it; 0.5 s on SQLite)",
    )
    parser.add_argument("--worker-id", default=None, help="default: host:pid:random")
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop (handing runs back) when this process, the server that started it, is gone",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    install_redaction((settings.pg_password, settings.single_user_api_key))
    workers = args.workers if args.workers is not None else max(1, settings.workflow_workers)
    registry = DatabaseRegistry(settings)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        runtime = WorkflowRuntime(
            registry,
            workers=workers,
            lease_seconds=args.lease_seconds,
            heartbeat_seconds=args.heartbeat_seconds,
            poll_seconds=args.poll_seconds,
            worker_id=args.worker_id,
        )
        # Long-lived startup objects out of full collections (see app.main).
        gc.collect()
        gc.freeze()
        runtime.start()
        print(
            f"workflow worker {runtime.worker_id} ready: {workers} thread(s) on "
            f"{runtime.store.database.describe()}",
            flush=True,
        )
        while not stop.wait(1.0):
            if args.parent_pid is not None and os.getppid() != args.parent_pid:
                print("workflow worker: the server that started it is gone", flush=True)
                break
        runtime.stop()
        print(f"workflow worker {runtime.worker_id} stopped", flush=True)
        return 0
    finally:
        registry.close()


if __name__ == "__main__":
    raise SystemExit(main())
