"""A multi-user server with password accounts, over a real socket, and the ``users`` command.

Accounts are made with the real command (a subprocess reading the password on
standard input) before the server starts; the server is a subprocess on the
parametrised backend with one API key (``alice``) and a known ``JWT_SECRET_KEY``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    clean_env,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.postgres_harness import fresh_database

USERS_COMMAND = [sys.executable, "-m", "tldw_Server_API.app.core.users"]
SECRET = "test-jwt-secret-0123456789abcdef-0123456789"
ALICE_KEY = "alice-key-for-signin-tests-000000"
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}
ACCESS_MINUTES = 15


@dataclass
class SignInServer:
    live: LiveServer
    tmp_path: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.live.base_url

    def users(self, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the ``users`` command against this server's databases."""
        return run_users(self.tmp_path, self.env, *args, password=password)

    def login(self, username: str, password: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/v1/auth/login",
            data={"username": username, "password": password},
            timeout=30,
        )

    def tokens(self, username: str) -> dict[str, str]:
        response = self.login(username, PASSWORDS[username])
        assert response.status_code == 200, response.text
        return dict(response.json())

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: object,
    ) -> httpx.Response:
        """A request with *token* as ``Authorization: Bearer`` (or *headers*), no key else."""
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{self.url}{path}"
        return httpx.request(method, url, headers=sent | (headers or {}), timeout=30, **kwargs)  # type: ignore[arg-type]


def run_users(
    tmp_path: Path, env: dict[str, str], *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*USERS_COMMAND, *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The variables that point a command or server at *settings*' databases."""
    env = {"TLDW_CONTENT_DB_BACKEND": settings.content_db_backend}
    if settings.uses_postgres:
        for part in ("host", "port", "database", "user"):
            env[f"TLDW_PG_{part.upper()}"] = str(getattr(settings, f"pg_{part}"))
        if settings.pg_password is not None:
            env["TLDW_PG_PASSWORD"] = settings.pg_password.get_secret_value()
    return env


def multi_user_env(tmp_path: Path) -> dict[str, str]:
    keys_file = tmp_path / "api_keys.json"
    keys_file.write_text(json.dumps({ALICE_KEY: "alice"}), encoding="utf-8")
    return {
        "TLDW_AUTH_MODE": "multi_user",
        "TLDW_API_KEYS_FILE": str(keys_file),
        "JWT_SECRET_KEY": SECRET,
        "ACCESS_TOKEN_EXPIRE_MINUTES": str(ACCESS_MINUTES),
        "TLDW_WORKFLOW_WORKERS": "0",
    }


def add_accounts(tmp_path: Path, env: dict[str, str]) -> None:
    for name, password in PASSWORDS.items():
        done = run_users(tmp_path, env, "add", name, password=password)
        assert done.returncode == 0, done.stderr


@contextmanager
def backend_env(kind: str, pg_server: PgTarget) -> Iterator[dict[str, str]]:
    """The server variables of a fresh installation on *kind*."""
    if kind == "sqlite":
        yield {}
        return
    with fresh_database(pg_server) as target:
        yield server_pg_env(target)


@contextmanager
def signin_server(tmp_path: Path, backend: dict[str, str]) -> Iterator[SignInServer]:
    """Accounts alice and bob, then a multi-user server over them."""
    env = multi_user_env(tmp_path) | backend
    add_accounts(tmp_path, env)
    with server_process(tmp_path, "server.log", **env) as live:
        yield SignInServer(live, tmp_path, env)
