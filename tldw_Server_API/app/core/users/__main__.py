"""Command line: the accounts that sign in with a password (multi-user mode).

    python -m tldw_Server_API.app.core.users add alice [--user-id ID]
    python -m tldw_Server_API.app.core.users passwd alice
    python -m tldw_Server_API.app.core.users disable alice | enable alice
    python -m tldw_Server_API.app.core.users list
    python -m tldw_Server_API.app.core.users code [--uses N] [--days D]
    python -m tldw_Server_API.app.core.users import-tldw Databases/users.db

The password is asked twice at a terminal, or read as the first line of
standard input otherwise (``--password-stdin`` style, for scripts): never from
the command line, where other users of the machine would see it. The account
lives in the Users database of the configured backend (the server's settings:
environment, then Config_Files/config.txt). ``code`` makes a registration code for
``POST /api/v1/auth/register`` and prints it (only its digest is stored); ``import-tldw``
brings the accounts of a tldw_server AuthNZ ``users.db`` over (:mod:`.tldw_import`). Exit codes:
0 done, 1 refused (taken name, unknown account, weak password), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..commands import command_parser
from ..config import ConfigError, load_settings
from ..DB_Management.instants import format_instant
from ..DB_Management.registry import DatabaseRegistry, InvalidUserId, check_user_id
from .codes import DEFAULT_DAYS, DEFAULT_MAX_USES, create_code
from .passwords import Passwords, WeakPassword
from .store import AccountExists, NoSuchAccount, UserStore, normalize_username
from .tldw_import import ImportRefused, import_accounts, read_tldw_users

USERNAME_RULE = "1-64 characters: letters, digits, '_', '-', '.' or '@'"


class Refused(Exception):
    """The command cannot do what was asked; the message says why (exit 1)."""


def check_username(name: str) -> str:
    normalized = normalize_username(name)
    allowed = set("_-.@")
    if not 1 <= len(normalized) <= 64 or not all(c.isalnum() or c in allowed for c in normalized):
        raise Refused(f"username {name!r} is invalid: use {USERNAME_RULE}")
    return normalized


def read_password(prompt: bool) -> str:
    """The new password: asked twice at a terminal, else the first line of standard input."""
    if not prompt:
        line = sys.stdin.readline()
        if not line:
            raise Refused("no password on standard input")
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise Refused("the two passwords differ")
    return first


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "tldw-users",
        "tldw_Server_API.app.core.users",
        "Manage the accounts that sign in with a password (multi-user mode).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("username", help=USERNAME_RULE)
    add.add_argument(
        "--user-id",
        help="whose data the account reaches (an id of the API keys file to share its data; "
        "default: the username, when it is a valid user id)",
    )
    for name, text in (
        ("passwd", "set a new password (ends the account's sessions)"),
        ("disable", "refuse the account's sign-in and end its sessions"),
        ("enable", "allow the account's sign-in again"),
    ):
        commands.add_parser(name, help=text).add_argument("username")
    commands.add_parser("list", help="list the accounts (never their passwords)")
    code = commands.add_parser("code", help="make a registration code and print it")
    code.add_argument(
        "--uses",
        type=_bounded("--uses", 1, MAX_CODE_USES),
        default=DEFAULT_MAX_USES,
        help=f"how many accounts it may make, 1 to {MAX_CODE_USES} (default {DEFAULT_MAX_USES})",
    )
    code.add_argument(
        "--days",
        type=_bounded("--days", 1, MAX_CODE_DAYS),
        default=DEFAULT_DAYS,
        help=f"days until it expires, 1 to {MAX_CODE_DAYS} (default {DEFAULT_DAYS})",
    )
    imported = commands.add_parser(
        "import-tldw",
        help="import the accounts of a tldw_server AuthNZ users.db (SQLite); user id = its id",
    )
    imported.add_argument("path", type=Path, help="tldw_server's Databases/users.db")
    return parser


MAX_CODE_USES = 100_000
MAX_CODE_DAYS = 3650


def _bounded(flag: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from *low* to *high*, else an error naming *flag*."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{flag} takes an integer from {low} to {high}")
        return value

    return parse


def data_id(username: str, given: str | None) -> str:
    """The user id the new account's data lives under."""
    candidate = given if given is not None else username
    try:
        return check_user_id(candidate)
    except InvalidUserId as exc:
        if given is not None:
            raise Refused(f"--user-id: {exc}") from None
        raise Refused(
            f"username {username!r} is not a valid user id (1-40 letters, digits, '_' or '-'): "
            "give one with --user-id"
        ) from None


def execute(args: argparse.Namespace, store: UserStore, prompt: bool) -> str:
    """Do *args*' command on *store*; the line to print."""
    passwords = Passwords()
    if args.command == "list":
        lines = [
            f"{a.username}\tuser id {a.user_id}\t{'active' if a.is_active else 'disabled'}\t"
            f"created {format_instant(a.created_at)}"
            for a in store.accounts()
        ]
        return "\n".join(lines) if lines else "no accounts"
    if args.command == "import-tldw":
        return _import_tldw(store, args.path)
    if args.command == "code":
        code, expires = create_code(store.database, args.uses, args.days)
        uses = "1 account" if args.uses == 1 else f"{args.uses} accounts"
        return f"{code}\t(for {uses}, until {format_instant(expires)})"
    if args.command == "add":
        username = check_username(args.username)
        user_id = data_id(username, args.user_id)
        password_hash = passwords.hash(read_password(prompt))
        account = store.create(username, password_hash, user_id)
        return f"created account {account.username!r} (user id {account.user_id})"
    if args.command == "passwd":
        store.get(args.username)  # an unknown name fails before the password is asked
        store.set_password(args.username, passwords.hash(read_password(prompt)))
        return f"new password for {normalize_username(args.username)!r}; its sessions ended"
    account = store.set_active(args.username, args.command == "enable")
    return f"account {account.username!r} {args.command}d"


def _import_tldw(store: UserStore, path: Path) -> str:
    done, skipped = import_accounts(store, read_tldw_users(path))
    lines = [f"imported {len(done)} account(s) from {path}; user id = tldw_server's id"]
    lines += [f"  {a.username}\tuser id {a.user_id}" for a in done]
    reset = [a.username for a in done if a.needs_reset]
    if reset:
        lines.append(
            f"{len(reset)} account(s) had a password hash this server cannot check (not "
            f"Argon2) and cannot sign in until given one (tldw-users passwd NAME): "
            + ", ".join(reset)
        )
    if skipped:
        lines.append(
            f"skipped {len(skipped)} whose name or user id an account already has: "
            + ", ".join(a.username for a in skipped)
        )
    return "\n".join(lines)


def run(argv: Sequence[str] | None = None, *, prompt: bool | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    registry = DatabaseRegistry(settings)
    try:
        store = UserStore(registry.users())
        print(execute(args, store, sys.stdin.isatty() if prompt is None else prompt))
    except (Refused, WeakPassword, AccountExists, NoSuchAccount) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportRefused as exc:  # bad input: nothing was imported
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        registry.close()
    if args.command == "add" and settings.auth_mode != "multi_user":
        print(
            "note: TLDW_AUTH_MODE is single_user: accounts sign in only in multi_user mode",
            file=sys.stderr,
        )
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
