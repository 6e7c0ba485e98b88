"""What every command line of ours shares: the name it is called by, and ``--version``."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "tldw-server"


def program_name(script: str | None, module: str) -> str:
    """``tldw-migrate`` when run as that installed script, else ``python -m <module>`` (always,
    for a command installed as no script: *script* None).

    ``--help`` and error messages then show the command exactly as the user typed it.
    """
    if script is not None and Path(sys.argv[0]).name == script:
        return script
    return f"python -m {module}"


def software_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def command_parser(script: str | None, module: str, description: str) -> argparse.ArgumentParser:
    """The parser every command of ours starts from: its name (see :func:`program_name`),
    what it does, and ``--version``; the command adds its own arguments."""
    parser = argparse.ArgumentParser(prog=program_name(script, module), description=description)
    parser.add_argument(
        "--version", action="version", version=f"{DISTRIBUTION} {software_version()}"
    )
    return parser


def add_user_ids_option(parser: argparse.ArgumentParser, whose: str, default: str) -> None:
    """``--user-id``, repeatable, for a command that acts on some users' data: ``args.user_id``
    is the list given, or None when none was (the command then applies ``default``)."""
    parser.add_argument(
        "--user-id", action="append", help=f"a user whose {whose} (repeatable; default: {default})"
    )


__all__ = ["add_user_ids_option", "command_parser", "program_name", "software_version"]
