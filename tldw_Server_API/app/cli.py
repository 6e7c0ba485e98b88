"""The ``tldw-server`` command: serve the API with uvicorn.

    tldw-server [--host 127.0.0.1] [--port 8000] [--log-level info] [--no-access-log]

Exit codes: 0 after a clean shutdown, 2 on a configuration error (the message names
the variable), :data:`STARTUP_FAILED` when the server could not start (a database
that cannot be opened: one log line says which and why).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import sys
from collections.abc import Sequence

from .core.commands import command_parser
from .core.config import ConfigError, Settings, load_settings
from .core.DB_Management.backends.unreachable import DatabaseUnavailable, debug_enabled
from .core.redaction import AccessLogWithoutQueryValues, install_redaction
from .factory import create_app

#: The exit code of a server that could not start (as uvicorn's own).
STARTUP_FAILED = 3
#: The module run by ``python -m``: the documented entry point.
MAIN_MODULE = f"{__package__}.main"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "tldw-server",
        MAIN_MODULE,
        "Serve the tldw API (settings: environment, then Config_Files/config.txt).",
    )
    parser.add_argument("--host", help="address to listen on (default: TLDW_SERVER_HOST)")
    parser.add_argument("--port", type=_port, help="port to listen on (default: TLDW_SERVER_PORT)")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    return parser


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
        settings.jwt_secret_key,
        settings.embedding_api_key,
        settings.chat_api_key,
    )
    install_redaction(secrets, extra_loggers=UVICORN_LOGGERS)
    logging.getLogger("uvicorn.access").addFilter(AccessLogWithoutQueryValues())
    if not debug_enabled():
        logging.getLogger("uvicorn.error").addFilter(HideStartupTraceback())


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
