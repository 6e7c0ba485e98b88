"""What every command line of ours shares: the name it is called by, and ``--version``."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "tldw-server"


def program_name(script: str, module: str) -> str:
    """``tldw-migrate`` when run as that installed script, else ``python -m <module>``.

    ``--help`` and error messages then show the command exactly as the user typed it.
    """
    if Path(sys.argv[0]).name == script:
        return script
    return f"python -m {module}"


def software_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def add_version_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version", action="version", version=f"{DISTRIBUTION} {software_version()}"
    )


__all__ = ["add_version_flag", "program_name", "software_version"]
