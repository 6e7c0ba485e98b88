"""Command line: migrate SQLite content databases to PostgreSQL.

    python -m tldw_Server_API.app.core.DB_Management.migration_tools \\
        --content-sqlite Databases/user_databases/1/Media_DB_v2.db \\
        --pg-host localhost --pg-database tldw_content --pg-user tldw_user

This module only parses flags and prints; the work is
:func:`tldw_Server_API.app.core.DB_Management.migration.run.migrate`. Exit
codes are documented in ``migration/errors.py`` and docs/migration.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from ..commands import add_version_flag, program_name
from .backends.target import PgTarget
from .migration.errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    INTERRUPTED,
    MigrationError,
    UsageError,
)
from .migration.feed import DEFAULT_JOBS
from .migration.report import ProgressReporter, print_summary, stop_report_dict, write_report
from .migration.run import MigrationOptions, MigrationResult, SourceFile, migrate
from .schemas import SCHEMAS

PASSWORD_WARNING = (
    "warning: a password on the command line is visible to other users of this machine "
    "(ps, shell history); prefer PGPASSWORD or ~/.pgpass"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name("tldw-migrate", "tldw_Server_API.app.core.DB_Management.migration_tools"),
        description=(
            "Copy SQLite content databases into PostgreSQL: atomic, verified, at COPY speed."
        ),
    )
    add_version_flag(parser)
    sources = parser.add_argument_group("sources (SQLite files)")
    sources.add_argument("--content-sqlite", type=Path, help="the Media database (Media_DB_v2.db)")
    sources.add_argument("--chacha-sqlite", type=Path, help="notes and chats (ChaChaNotes.db)")
    sources.add_argument("--analytics-sqlite", type=Path, help="Analytics.db")
    sources.add_argument("--workflows-sqlite", type=Path, help="workflows.db")
    sources.add_argument("--users-sqlite", type=Path, help="tldw_users.db (password accounts)")
    sources.add_argument(
        "--sqlite",
        type=Path,
        help="any other SQLite file (with --target-schema; --create-schema creates its tables)",
    )
    sources.add_argument("--target-schema", help="the PostgreSQL schema --sqlite lands in")
    sources.add_argument("--user-id", help="whose Media/ChaChaNotes these are (default: 1)")
    sources.add_argument(
        "--all-users",
        action="store_true",
        help="migrate every DATA_DIR/user_databases/*/ plus the server databases in DATA_DIR",
    )
    sources.add_argument(
        "--data-dir", type=Path, default=Path("Databases"), help="default: Databases"
    )

    target = parser.add_argument_group(
        "target (PostgreSQL); unset values fall back to PG* variables"
    )
    target.add_argument("--pg-host")
    target.add_argument("--pg-port", help="1-65535")
    target.add_argument("--pg-database")
    target.add_argument("--pg-user")
    target.add_argument("--pg-password", help="prefer PGPASSWORD or ~/.pgpass")
    target.add_argument("--pg-sslmode")
    target.add_argument("--pg-dsn", help="a libpq connection string or URI (never printed)")
    target.add_argument(
        "--create-schema", action="store_true", help="create missing target schemas first"
    )

    run = parser.add_argument_group("run")
    run.add_argument(
        "--batch-size", type=int, default=500, help="rows per progress update (default 500)"
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="helper processes for checksums and search vectors on large databases "
        f"(default {DEFAULT_JOBS}; 0: all in one process, least memory)",
    )
    run.add_argument("--skip-table", action="append", default=[], metavar="TABLE")
    run.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    run.add_argument("--verify-only", action="store_true", help="re-check an earlier migration")
    run.add_argument("--print-setval", action="store_true", help="print the sequence statements")
    run.add_argument("--report", type=Path, help="write a JSON report to this file")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument(
        "--rehearse",
        action="store_true",
        help="migrate into a throw-away embedded PostgreSQL and verify, touching no server",
    )

    policies = parser.add_argument_group("policies (default: stop and report)")
    policies.add_argument("--on-nul", choices=["error", "strip"], default="error")
    policies.add_argument("--on-orphan", choices=["error", "skip", "null"], default="error")
    policies.add_argument("--on-invalid-json", choices=["error", "string"], default="error")
    policies.add_argument("--on-invalid-utf8", choices=["error", "replace"], default="error")
    return parser


def port_number(value: str, source: str) -> int:
    """*value* as a TCP port, or a :class:`UsageError` naming *source* (the flag or variable)."""
    try:
        port = int(value)
    except ValueError:
        raise UsageError(f"{source} {value!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise UsageError(f"{source} {port} is not a port number (1-65535)")
    return port


def dsn_parts(dsn: str) -> dict[str, Any]:
    """The parameters of a libpq DSN, or a :class:`UsageError` that does not echo it.

    The DSN may hold a password, so the message names the flag, never the text.
    """
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg.ProgrammingError, with the DSN's text in its message
        raise UsageError(
            "--pg-dsn is not a valid connection string: give a URI "
            "(postgresql://USER@HOST:PORT/DBNAME) or key=value pairs (host=... dbname=...)"
        ) from None
    if parts.get("port"):
        port_number(str(parts["port"]), "the port in --pg-dsn")
    return parts


def dsn_has_password(dsn: str | None) -> bool:
    if not dsn:
        return False
    try:
        return bool(conninfo_to_dict(dsn).get("password"))
    except Exception:  # malformed: reported by dsn_parts, which never shows the text
        return False


def target_from_args(args: argparse.Namespace, env: os._Environ[str] | dict[str, str]) -> PgTarget:
    """The target from --pg-dsn or --pg-* flags, falling back to the PG* variables."""
    password = args.pg_password or None
    if args.pg_dsn:
        dsn_parts(args.pg_dsn)
        target = PgTarget.from_dsn(args.pg_dsn)
    else:
        port_source = "--pg-port" if args.pg_port else "PGPORT"
        target = PgTarget(
            host=args.pg_host or env.get("PGHOST") or "localhost",
            port=port_number(args.pg_port or env.get("PGPORT") or "5432", port_source),
            database=args.pg_database or env.get("PGDATABASE") or "tldw_content",
            user=args.pg_user or env.get("PGUSER") or "postgres",
            sslmode=args.pg_sslmode or env.get("PGSSLMODE") or "prefer",
        )
    if password:
        target = PgTarget(**{**target.__dict__, "password": SecretStr(password)})
    return target


def sources_from_args(args: argparse.Namespace) -> list[SourceFile]:
    user = args.user_id or "1"
    sources: list[SourceFile] = []
    if args.all_users:
        sources += discover_installation(args.data_dir)
    for kind, path in (
        ("media", args.content_sqlite),
        ("chacha", args.chacha_sqlite),
        ("analytics", args.analytics_sqlite),
        ("workflows", args.workflows_sqlite),
        ("users", args.users_sqlite),
    ):
        if path is not None:
            owner = user if kind in ("media", "chacha") else None
            sources = [s for s in sources if not (s.kind == kind and s.user_id == owner)]
            sources.append(SourceFile(kind, path, owner))  # type: ignore[arg-type]
    if args.sqlite is not None:
        if not args.target_schema:
            raise UsageError("--sqlite needs --target-schema: the PostgreSQL schema to fill")
        sources.append(SourceFile("generic", args.sqlite, namespace=args.target_schema))
    elif args.target_schema:
        raise UsageError("--target-schema goes with --sqlite")
    return sources


def discover_installation(data_dir: Path) -> list[SourceFile]:
    """Every user's files under DATA_DIR/user_databases/*/ and the server's databases."""
    found: list[SourceFile] = []
    users_dir = data_dir / "user_databases"
    for user_dir in sorted(p for p in users_dir.glob("*") if p.is_dir()):
        for kind, name in (("media", "Media_DB_v2.db"), ("chacha", "ChaChaNotes.db")):
            if (user_dir / name).exists():
                found.append(SourceFile(kind, user_dir / name, user_dir.name))  # type: ignore[arg-type]
    for schema in SCHEMAS.values():
        if not schema.per_user and (data_dir / schema.sqlite_file).exists():
            found.append(SourceFile(schema.name, data_dir / schema.sqlite_file))  # type: ignore[arg-type]
    return found


def run_cli(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    """Run the command; every ending after the flags are parsed writes ``--report`` if asked."""
    args = build_parser().parse_args(argv)
    environment = dict(os.environ) if env is None else env
    if args.pg_password or dsn_has_password(args.pg_dsn):
        print(PASSWORD_WARNING, file=sys.stderr)
    try:
        with terminate_as_interrupt():
            result = _run(args, environment)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _stopped(args, environment, exc.exit_code, str(exc))
    except KeyboardInterrupt as exc:
        print(INTERRUPTED, file=sys.stderr)
        code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        return _stopped(args, environment, code, INTERRUPTED)
    except Exception as exc:  # a bug: say so, keep the traceback for the report to us
        traceback.print_exc()
        reason = f"internal error (a bug, please report it): {type(exc).__name__}: {exc}"
        print(f"error: {_redacted(reason, args, environment)}", file=sys.stderr)
        return _stopped(args, environment, 1, reason)
    return finish(args, result)


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds like Ctrl-C (the transaction rolls back), exit code 143."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM stop the run the same way; further signals are ignored from
    then on, so the one ending line and the report are never cut short."""
    stopped = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopped
        stopped = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    if threading.current_thread() is not threading.main_thread():  # e.g. a test's thread
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        if not stopped:  # a stopped run keeps ignoring them while it reports and exits
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _run(args: argparse.Namespace, environment: dict[str, str]) -> MigrationResult:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 or more")
    if args.dry_run and args.verify_only:
        raise UsageError("--dry-run and --verify-only exclude each other")
    if args.rehearse:
        from .migration.rehearse import rehearse

        return rehearse(args, environment)
    sources = sources_from_args(args)
    if not sources and args.all_users:
        raise UsageError(
            f"nothing to migrate: no SQLite files under {args.data_dir}/user_databases/*/ "
            f"or in {args.data_dir}/ (give --data-dir)"
        )
    if not sources:
        raise UsageError(
            "nothing to migrate: give --content-sqlite, --chacha-sqlite, "
            "--analytics-sqlite, --workflows-sqlite, --users-sqlite, --sqlite or --all-users"
        )
    return execute(args, sources, target_from_args(args, environment))


def _redacted(text: str, args: argparse.Namespace, environment: dict[str, str]) -> str:
    """*text* without the password or the DSN (an exception's message might hold either)."""
    for secret in (args.pg_password, args.pg_dsn, environment.get("PGPASSWORD")):
        if secret:
            text = text.replace(secret, "******")
    return text


def _stopped(args: argparse.Namespace, environment: dict[str, str], code: int, reason: str) -> int:
    """Write the report of a run that ended without a per-database result; return *code*."""
    if args.report:
        try:
            target: str | None = target_from_args(args, environment).describe()
        except Exception:  # an unusable --pg-dsn: the report still says why the run ended
            target = None
        report = stop_report_dict(target, code, _redacted(reason, args, environment))
        write_report(report, args.report)
    return code


def execute(
    args: argparse.Namespace, sources: list[SourceFile], target: PgTarget
) -> MigrationResult:
    options = MigrationOptions(
        sources=sources,
        target=target,
        batch_size=args.batch_size,
        jobs=args.jobs,
        skip_tables=set(args.skip_table),
        create_schema=args.create_schema,
        dry_run=args.dry_run,
        verify_only=args.verify_only,
        on_nul=args.on_nul,
        on_orphan=args.on_orphan,
        on_invalid_json=args.on_invalid_json,
        on_invalid_utf8=args.on_invalid_utf8,
    )
    reporter = ProgressReporter(quiet=args.quiet)
    with reporter.running():
        return migrate(options, progress=reporter)


def finish(args: argparse.Namespace, result: MigrationResult) -> int:
    print_summary(result)
    if args.print_setval:
        for db in result.databases:
            for statement in db.setval:
                print(statement)
    if args.report:
        write_report(result, args.report)
    for db in result.databases:
        for problem in db.problems[:50]:
            print(f"  {problem}", file=sys.stderr)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_cli(argv))


if __name__ == "__main__":
    main()
