"""The ``users`` command (a subprocess, both backends) and sign-in's configuration.

Refusals exit 1 with a message and change nothing; the password never comes
from the command line and never shows in any output; ``JWT_SECRET_KEY`` is
checked, and its absence in multi-user mode is said on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import ConfigError, Settings, load_settings
from tldw_Server_API.app.main import create_app
from tldw_Server_API.tests.api.conftest import TestClient
from tldw_Server_API.tests.api.signin_server import backend_env, run_users

pytestmark = [pytest.mark.timeout(120)]

PASSWORD = "a-good-password-1"


@pytest.fixture
def env(backend_kind: str, pg_server: object) -> Iterator[dict[str, str]]:
    """The variables of a fresh installation on the parametrised backend."""
    with backend_env(backend_kind, pg_server) as backend:  # type: ignore[arg-type]
        yield backend | {"TLDW_AUTH_MODE": "multi_user"}


def listed(tmp_path: Path, env: dict[str, str]) -> str:
    done = run_users(tmp_path, env, "list")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_add_creates_an_account_that_list_shows_without_its_hash(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = run_users(tmp_path, env, "add", "Frank", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "created account 'frank' (user id frank)" in done.stdout
    shown = listed(tmp_path, env)
    assert shown.startswith("frank\tuser id frank\tactive")
    assert "argon2" not in shown and PASSWORD not in shown + done.stdout + done.stderr


def test_add_with_user_id_maps_the_account_onto_that_users_data(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = run_users(tmp_path, env, "add", "grace", "--user-id", "7", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "grace\tuser id 7\t" in listed(tmp_path, env)


def test_a_taken_username_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    assert run_users(tmp_path, env, "add", "heidi", password=PASSWORD).returncode == 0
    again = run_users(tmp_path, env, "add", "HEIDI", "--user-id", "other", password=PASSWORD)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert len(listed(tmp_path, env).splitlines()) == 1


def test_a_short_password_is_refused_and_nothing_is_stored(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = run_users(tmp_path, env, "add", "ivan", password="short")
    assert done.returncode == 1
    assert "at least 8 characters" in done.stderr and "short" not in done.stderr.split(":")[-1]
    assert listed(tmp_path, env).strip() == "no accounts"


def test_a_username_that_is_no_user_id_needs_one(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_users(tmp_path, env, "add", "judy@example.org", password=PASSWORD)
    assert done.returncode == 1
    assert "--user-id" in done.stderr
    assert (
        run_users(
            tmp_path, env, "add", "judy@example.org", "--user-id", "judy", password=PASSWORD
        ).returncode
        == 0
    )


def test_passwd_of_an_unknown_account_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_users(tmp_path, env, "passwd", "nobody", password=PASSWORD)
    assert done.returncode == 1
    assert "no account is named 'nobody'" in done.stderr


# -- configuration --------------------------------------------------------------------------


def test_a_short_jwt_secret_key_is_a_config_error_that_hides_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"JWT_SECRET_KEY": "too-short-secret"}, config_file=tmp_path / "x")
    assert "JWT_SECRET_KEY" in str(caught.value)
    assert "too-short-secret" not in str(caught.value)


def test_without_jwt_secret_key_multi_user_mode_says_how_to_set_one(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"kim-key-000000000000": "kim"}), encoding="utf-8")
    multi = settings.model_copy(
        update={"auth_mode": "multi_user", "api_keys_file": keys, "workflow_workers": 0}
    )
    with TestClient(create_app(multi)):
        printed = capsys.readouterr().err
    assert "No JWT_SECRET_KEY is configured" in printed
    assert "JWT_SECRET_KEY=" in printed and "restart" in printed


def test_password_sign_in_is_refused_in_single_user_mode(anonymous: TestClient) -> None:
    response = anonymous.post("/api/v1/auth/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "multi_user" in response.json()["detail"]
