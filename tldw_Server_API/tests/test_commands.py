"""Every command says its version and shows the name it was called by."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tldw_Server_API.app.core.commands import software_version

SCRIPTS = {
    "tldw-server": "tldw_Server_API.app.main",
    "tldw-migrate": "tldw_Server_API.app.core.DB_Management.migration_tools",
    "tldw-init-db": "tldw_Server_API.app.core.DB_Management.init_db",
    "tldw-users": "tldw_Server_API.app.core.users",
    "tldw-embed": "tldw_Server_API.app.core.RAG.embed_existing",
}
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_installed_command_prints_its_version(script: str) -> None:
    done = _run(str(BIN / script), "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"tldw-server {software_version()}"
    assert software_version()[0].isdigit()


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_shows_the_installed_name(script: str) -> None:
    done = _run(str(BIN / script), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script} ")


@pytest.mark.parametrize("module", sorted(SCRIPTS.values()))
def test_help_shows_the_module_form_when_run_as_a_module(module: str) -> None:
    done = _run(sys.executable, "-m", module, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {module}")


WORKER = "tldw_Server_API.app.core.Workflows.worker"


def test_the_workflow_worker_prints_its_version() -> None:
    done = _run(sys.executable, "-m", WORKER, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"tldw-server {software_version()}"


def test_the_workflow_worker_help_shows_its_module_form() -> None:
    done = _run(sys.executable, "-m", WORKER, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {WORKER} ")
