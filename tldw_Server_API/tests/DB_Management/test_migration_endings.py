"""How the migration tool ends: signals, its helper processes, malformed connection flags.

The CLI runs as a subprocess against the test PostgreSQL. A run is still going when
a signal arrives: either it waits for a table another session holds locked, or it
copies a generated file large enough to use ``--jobs 2`` helper processes (the test
waits until those helpers exist). Every wait is bounded; nothing is timed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.errors import INTERRUPTED
from tldw_Server_API.app.core.DB_Management.migration_tools import PASSWORD_WARNING
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.DB_Management.test_migration_cli_integration import (
    MODULE,
    PASSWORD,
    WORKFLOWS,
    cli,
    environment,
    pg_count,
    pg_flags,
    report_of,
    shared_db,  # noqa: F401 - a fixture
    sqlite_count,
    start_blocked_run,
    workdir,  # noqa: F401 - a fixture
)

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the helper processes"),
]

#: Media items of the generated file: ~48,000 rows, above the row count from which the
#: tool starts its --jobs helpers.
LARGE_MEDIA_ITEMS = 2000
WAIT_BOUND_SECONDS = 120.0


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_BOUND_SECONDS
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not reached: {what}"
        time.sleep(0.05)
    return value


def descendants_alive(pids: set[int]) -> set[int]:
    """Those of *pids* that still run (a zombie has ended)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def helper_processes(pid: int) -> set[int]:
    """The multiprocessing helpers the tool *pid* started (not its resource tracker)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in command:
                found.add(child)
    return found


@pytest.fixture(scope="module")
def large_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "Media_DB_v2.db"
    generate("media", path, size=LARGE_MEDIA_ITEMS, seed=5)
    return path


def start_with_helpers(
    large_media: Path, target: PgTarget, report: Path
) -> tuple[subprocess.Popen[str], set[int]]:
    """The tool copying *large_media* with two helper processes, once both exist."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "--content-sqlite",
            str(large_media),
            *pg_flags(target),
            "--create-schema",
            "--jobs",
            "2",
            "--report",
            str(report),
        ],
        cwd=large_media.parent,
        env=environment(target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        helpers = wait_for(lambda: at_least_two(helper_processes(process.pid)), "two helpers")
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return process, helpers


def at_least_two(pids: set[int]) -> set[int] | None:
    return pids if len(pids) >= 2 else None


def ending_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "interrupted" in line]


# -- signals -----------------------------------------------------------------------------


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_exits_with_its_code_one_line_and_the_report_committing_nothing(
    workdir: Path,  # noqa: F811 - the fixture
    pg_database: PgTarget,
    sig: signal.Signals,
    code: int,
) -> None:
    report = workdir / "stopped.json"
    process, blocker, _ = start_blocked_run(workdir, pg_database, report)
    try:
        process.send_signal(sig)
        _, err = process.communicate(timeout=WAIT_BOUND_SECONDS)
    finally:
        blocker.close()
    assert process.returncode == code, err
    assert ending_lines(err) == [INTERRUPTED]
    assert "Traceback" not in err
    data = report_of(report)
    assert data["exit_code"] == code and data["reason"] == INTERRUPTED
    # As before the run: the earlier migration's rows, nothing of the interrupted one.
    assert pg_count(pg_database, "workflows.workflow_events") == sqlite_count(
        workdir / WORKFLOWS, "workflow_events"
    )


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_run_with_helpers_ends_them_too(
    large_media: Path, pg_database: PgTarget, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    report = tmp_path / "report.json"
    process, helpers = start_with_helpers(large_media, pg_database, report)

    process.send_signal(sig)
    _, err = process.communicate(timeout=WAIT_BOUND_SECONDS)

    assert process.returncode == code, err
    assert ending_lines(err) == [INTERRUPTED]
    assert "Traceback" not in err
    assert report_of(report)["exit_code"] == code
    wait_for(lambda: not descendants_alive(helpers), "the helpers end")


def test_helpers_end_when_the_tool_is_killed(
    large_media: Path, pg_database: PgTarget, tmp_path: Path
) -> None:
    process, helpers = start_with_helpers(large_media, pg_database, tmp_path / "report.json")

    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=WAIT_BOUND_SECONDS)

    assert process.returncode == -signal.SIGKILL
    wait_for(lambda: not descendants_alive(helpers), "the orphaned helpers end")


# -- malformed connection flags ------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--pg-dsn", f"host=localhost password={PASSWORD} dbname"], "--pg-dsn"),
        (["--pg-dsn", f"postgresql://u:{PASSWORD}@localhost:notaport/db"], "--pg-dsn"),
        (["--pg-dsn", f"postgresql://u:{PASSWORD}@localhost:99999/db"], "port in --pg-dsn"),
        (["--pg-port", "fivefourthreetwo"], "--pg-port"),
        (["--pg-port", "0"], "--pg-port"),
    ],
)
def test_a_malformed_connection_flag_is_exit_2_in_one_line(
    workdir: Path,  # noqa: F811 - the fixture
    shared_db: PgTarget,  # noqa: F811 - the fixture
    flags: list[str],
    named: str,
) -> None:
    report = workdir / "bad.json"
    run = cli(workdir, shared_db, "--workflows-sqlite", WORKFLOWS, *flags, "--report", str(report))
    assert run.returncode == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line != PASSWORD_WARNING]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("error: ") and named in errors[0]
    assert "Traceback" not in run.stderr and PASSWORD not in run.stderr
    assert report_of(report)["exit_code"] == 2


def test_a_dsn_with_a_password_gets_the_password_warning(
    workdir: Path,  # noqa: F811 - the fixture
    shared_db: PgTarget,  # noqa: F811 - the fixture
) -> None:
    dsn = (
        f"postgresql://{shared_db.user}:{PASSWORD}@{shared_db.host}:{shared_db.port}/"
        f"{shared_db.database}"
    )
    run = cli(workdir, shared_db, "--workflows-sqlite", WORKFLOWS, "--pg-dsn", dsn)
    assert PASSWORD_WARNING in run.stderr.splitlines()
    assert PASSWORD not in run.stdout + run.stderr


def test_a_dsn_without_a_password_gets_no_warning(
    workdir: Path,  # noqa: F811 - the fixture
    shared_db: PgTarget,  # noqa: F811 - the fixture
) -> None:
    dsn = f"host={shared_db.host} port={shared_db.port} dbname={shared_db.database}"
    run = cli(workdir, shared_db, "--workflows-sqlite", WORKFLOWS, "--pg-dsn", dsn)
    assert PASSWORD_WARNING not in run.stderr
