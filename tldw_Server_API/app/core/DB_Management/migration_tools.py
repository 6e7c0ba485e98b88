"""Command line: migrate SQLite content databases to PostgreSQL.

    python -m tldw_Server_API.app.core.DB_Management.migration_tools \\
        --content-sqlite Databases/user_databases/1/Media_DB_v2.db \\
        --pg-host localhost --pg-database tldw_content --pg-user tldw_user

This module only turns flags into typed options (:class:`Command`) and results
into output and an exit code; the work is done by library calls with typed
parameters: :func:`.migration.run.migrate` and :func:`.migration.rehearse.rehearse`.
Exit codes are documented in ``migration/errors.py`` and docs/migration.md.
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
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from ..commands import command_parser
from ..config import PG_DEFAULTS
from .backends.target import PgTarget, pg_parts
from .migration.errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    INTERRUPTED,
    INTERRUPTED_UNITS,
    MigrationError,
    UsageError,
)
from .migration.feed import DEFAULT_JOBS
from .migration.options import RunOptions, SourceFile, discover_installation
from .migration.rehearse import rehearse
from .migration.report import (
    ProgressReporter,
    failed_units_line,
    print_summary,
    print_units_summary,
    stop_report_dict,
    write_report,
)
from .migration.results import MigrationResult
from .migration.run import migrate

PASSWORD_WARNING = (
    "warning: a password on the command line is visible to other users of this machine "
    "(ps, shell history); prefer PGPASSWORD or ~/.pgpass"
)


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "tldw-migrate",
        "tldw_Server_API.app.core.DB_Management.migration_tools",
        "Copy SQLite content databases into PostgreSQL: atomic, verified, at COPY speed.",
    )
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
        help="migrate every DATA_DIR/user_databases/*/ plus the server databases in DATA_DIR, "
        "each user in a transaction of its own; users an earlier run verified are skipped",
    )
    sources.add_argument(
        "--redo-all",
        action="store_true",
        help="with --all-users: migrate again the users an earlier run verified",
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


@dataclass(frozen=True)
class SourceFlags:
    """The source flags: which SQLite files, whose, and where an installation keeps them."""

    content_sqlite: Path | None = None
    chacha_sqlite: Path | None = None
    analytics_sqlite: Path | None = None
    workflows_sqlite: Path | None = None
    users_sqlite: Path | None = None
    sqlite: Path | None = None
    target_schema: str | None = None
    user_id: str | None = None
    all_users: bool = False
    data_dir: Path = Path("Databases")


@dataclass(frozen=True)
class TargetFlags:
    """The ``--pg-*`` flags as given (unset ones fall back to the PG* variables)."""

    host: str | None = None
    port: str | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown
    sslmode: str | None = None
    dsn: str | None = field(default=None, repr=False)  # may hold a password


@dataclass(frozen=True)
class Output:
    """What the command prints and writes besides the summary."""

    print_setval: bool = False
    report: Path | None = None
    quiet: bool = False


@dataclass(frozen=True)
class Command:
    """One invocation, typed: everything the flags say, checked."""

    sources: SourceFlags
    target: TargetFlags
    run: RunOptions
    output: Output
    rehearse: bool = False


def target_flags(args: argparse.Namespace) -> TargetFlags:
    return TargetFlags(**pg_parts(args), dsn=args.pg_dsn)


def output_flags(args: argparse.Namespace) -> Output:
    return Output(print_setval=args.print_setval, report=args.report, quiet=args.quiet)


def command_from(args: argparse.Namespace) -> Command:
    """The parsed flags as a :class:`Command`; a :class:`UsageError` for a bad combination."""
    run = RunOptions(
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
        each_unit_apart=args.all_users,
        redo_all=args.redo_all,
    )
    sources = SourceFlags(
        content_sqlite=args.content_sqlite,
        chacha_sqlite=args.chacha_sqlite,
        analytics_sqlite=args.analytics_sqlite,
        workflows_sqlite=args.workflows_sqlite,
        users_sqlite=args.users_sqlite,
        sqlite=args.sqlite,
        target_schema=args.target_schema,
        user_id=args.user_id,
        all_users=args.all_users,
        data_dir=args.data_dir,
    )
    return Command(sources, target_flags(args), run, output_flags(args), args.rehearse)


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


def target_from_flags(flags: TargetFlags, env: os._Environ[str] | dict[str, str]) -> PgTarget:
    """The target from --pg-dsn or --pg-* flags, falling back to the PG* variables."""
    password = flags.password or None
    if flags.dsn:
        dsn_parts(flags.dsn)
        target = PgTarget.from_dsn(flags.dsn)
    else:
        port_source = "--pg-port" if flags.port else "PGPORT"
        target = PgTarget(
            host=flags.host or env.get("PGHOST") or PG_DEFAULTS.host,
            port=port_number(flags.port or env.get("PGPORT") or str(PG_DEFAULTS.port), port_source),
            database=flags.database or env.get("PGDATABASE") or PG_DEFAULTS.database,
            user=flags.user or env.get("PGUSER") or PG_DEFAULTS.user,
            sslmode=flags.sslmode or env.get("PGSSLMODE") or PG_DEFAULTS.sslmode,
        )
    if password:
        target = PgTarget(**{**target.__dict__, "password": SecretStr(password)})
    return target


def sources_from_flags(flags: SourceFlags) -> list[SourceFile]:
    """The files the source flags name, in order; a later flag replaces an earlier find."""
    user = flags.user_id or "1"
    sources: list[SourceFile] = []
    if flags.all_users:
        sources += discover_installation(flags.data_dir)
    for kind, path in (
        ("media", flags.content_sqlite),
        ("chacha", flags.chacha_sqlite),
        ("analytics", flags.analytics_sqlite),
        ("workflows", flags.workflows_sqlite),
        ("users", flags.users_sqlite),
    ):
        if path is not None:
            owner = user if kind in ("media", "chacha") else None
            sources = [s for s in sources if not (s.kind == kind and s.user_id == owner)]
            sources.append(SourceFile(kind, path, owner))  # type: ignore[arg-type]
    if flags.sqlite is not None:
        if not flags.target_schema:
            raise UsageError("--sqlite needs --target-schema: the PostgreSQL schema to fill")
        sources.append(SourceFile("generic", flags.sqlite, namespace=flags.target_schema))
    elif flags.target_schema:
        raise UsageError("--target-schema goes with --sqlite")
    return sources


def run_cli(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    """Run the command; every ending after the flags are parsed writes ``--report`` if asked."""
    args = build_parser().parse_args(argv)
    environment = dict(os.environ) if env is None else env
    target, output = target_flags(args), output_flags(args)
    if target.password or dsn_has_password(target.dsn):
        print(PASSWORD_WARNING, file=sys.stderr)
    try:
        with terminate_as_interrupt():
            result = _run(command_from(args), environment)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _stopped(output, target, environment, exc.exit_code, str(exc))
    except KeyboardInterrupt as exc:
        line = INTERRUPTED_UNITS if _commits_by_unit(args) else INTERRUPTED
        print(line, file=sys.stderr)
        code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        return _stopped(output, target, environment, code, line)
    except Exception as exc:  # a bug: say so, keep the traceback for the report to us
        traceback.print_exc()
        reason = f"internal error (a bug, please report it): {type(exc).__name__}: {exc}"
        print(f"error: {_redacted(reason, target, environment)}", file=sys.stderr)
        return _stopped(output, target, environment, 1, reason)
    return finish(output, result)


def _commits_by_unit(args: argparse.Namespace) -> bool:
    """An ``--all-users`` run that writes: each user committed as soon as they are done."""
    return bool(args.all_users and not (args.dry_run or args.verify_only or args.rehearse))


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


def _run(command: Command, environment: dict[str, str]) -> MigrationResult:
    """Call the library for *command*, with a progress display unless ``--quiet``."""
    sources = sources_from_flags(command.sources)
    reporter = ProgressReporter(quiet=command.output.quiet, units=command.run.each_unit_apart)
    if command.rehearse:
        with reporter.running():
            return rehearse(
                sources,
                command.run,
                command.sources.data_dir,
                progress=reporter,
                units=reporter.unit_done,
                notify=lambda line: print(line, file=sys.stderr),
            )
    data_dir = command.sources.data_dir
    if not sources and command.sources.all_users:
        raise UsageError(
            f"nothing to migrate: no SQLite files under {data_dir}/user_databases/*/ "
            f"or in {data_dir}/ (give --data-dir)"
        )
    if not sources:
        raise UsageError(
            "nothing to migrate: give --content-sqlite, --chacha-sqlite, "
            "--analytics-sqlite, --workflows-sqlite, --users-sqlite, --sqlite or --all-users"
        )
    options = command.run.migrating(sources, target_from_flags(command.target, environment))
    with reporter.running():
        return migrate(options, progress=reporter, units=reporter.unit_done)


def _redacted(text: str, target: TargetFlags, environment: dict[str, str]) -> str:
    """*text* without the password or the DSN (an exception's message might hold either)."""
    for secret in (target.password, target.dsn, environment.get("PGPASSWORD")):
        if secret:
            text = text.replace(secret, "******")
    return text


def _stopped(
    output: Output, flags: TargetFlags, environment: dict[str, str], code: int, reason: str
) -> int:
    """Write the report of a run that ended without a per-database result; return *code*."""
    if output.report:
        try:
            target: str | None = target_from_flags(flags, environment).describe()
        except Exception:  # an unusable --pg-dsn: the report still says why the run ended
            target = None
        report = stop_report_dict(target, code, _redacted(reason, flags, environment))
        write_report(report, output.report)
    return code


def finish(output: Output, result: MigrationResult) -> int:
    """Print the summary (and the statements, and the problems); write the report."""
    if result.units:
        print_units_summary(result)
    else:
        print_summary(result)
    if output.print_setval:
        for db in result.databases:
            for statement in db.setval:
                print(statement)
    if output.report:
        write_report(result, output.report)
    for db in result.databases:
        for problem in db.problems[:50]:
            print(f"  {problem}", file=sys.stderr)
    failed = failed_units_line(result)
    if failed:
        print(failed, file=sys.stderr)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_cli(argv))


if __name__ == "__main__":
    main()
