"""The API server's entry point: ``python -m tldw_Server_API.app.main`` and ``tldw-server``.

    tldw-server [--host 127.0.0.1] [--port 8000]
    python -m tldw_Server_API.app.main [--host ...] [--port ...]

A configuration error prints a message naming the variable and exits with 2.
The parts live in their own modules:

- :mod:`.factory`: ``create_app(settings)``, the FastAPI application;
- :mod:`.lifespan`: start-up (databases opened, one log line each) and shutdown;
- :mod:`.supervision`: the workflow runtime, in threads or a supervised worker process;
- :mod:`.cli`: the command line (flags, uvicorn, log safety, exit codes).
"""

from __future__ import annotations

import sys

from .cli import run
from .factory import create_app

__all__ = ["create_app", "run"]

if __name__ == "__main__":
    sys.exit(run())
