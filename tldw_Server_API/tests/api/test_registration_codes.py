"""Registration codes: required when REQUIRE_REGISTRATION_CODE says so, uses, expiry, and the
``users code`` command (the codes' use over a socket: test_password_signin.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.instants import utc_now
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.users import registration_codes
from tldw_Server_API.app.core.users.__main__ import run
from tldw_Server_API.app.core.users.codes import InvalidCode, create_code
from tldw_Server_API.app.core.users.store import UserStore
from tldw_Server_API.tests.api.conftest import multi_user_clients
from tldw_Server_API.tests.api.signin_server import run_users, settings_env

BODY = {"username": "nora", "email": "n@example.org", "password": "Str0ng!pass"}


def test_a_required_code_must_be_sent(settings: Settings, tmp_path: Path) -> None:
    extra = {"enable_registration": True, "require_registration_code": True}
    with multi_user_clients(settings, tmp_path, **extra) as (alice, _):
        code, _ = create_code(alice.app.state.registry.users())  # type: ignore[attr-defined]
        missing = alice.post("/api/v1/auth/register", json=BODY)
        empty = alice.post("/api/v1/auth/register", json=BODY | {"registration_code": ""})
        made = alice.post("/api/v1/auth/register", json=BODY | {"registration_code": code})
    assert (missing.status_code, empty.status_code) == (400, 400)
    assert missing.json() == {"detail": "Invalid registration code."}
    assert made.status_code == 200, made.text


def test_an_expired_code_makes_no_account(registry: DatabaseRegistry) -> None:
    users = registry.users()
    code, _ = create_code(users, 5, 1, clock=lambda: utc_now() - timedelta(days=2))
    store = UserStore(users)
    with pytest.raises(InvalidCode):
        store.create("olga", "hash", "olga", registration_code=code)
    assert store.accounts() == []


def test_a_code_makes_as_many_accounts_as_its_uses(registry: DatabaseRegistry) -> None:
    users = registry.users()
    code, _ = create_code(users, 2)
    store = UserStore(users)
    store.create("p1", "hash", "p1", registration_code=code)
    store.create("p2", "hash", "p2", registration_code=code)
    with pytest.raises(InvalidCode):
        store.create("p3", "hash", "p3", registration_code=code)
    assert [a.username for a in store.accounts()] == ["p1", "p2"]


def test_the_code_command_prints_a_code_stored_as_its_digest_only(
    settings: Settings, tmp_path: Path
) -> None:
    assert settings.data_dir == tmp_path / "Databases"  # where the command looks (clean_env)
    done = run_users(tmp_path, settings_env(settings), "code", "--uses", "3", "--days", "2")
    assert done.returncode == 0, done.stderr
    code, rest = done.stdout.strip().split("\t")
    assert rest.startswith("(for 3 accounts, until ")
    registry = DatabaseRegistry(settings)
    try:
        with registry.users().begin(write=False) as conn:
            row = conn.execute(select(registration_codes)).one()
    finally:
        registry.close()
    assert row.max_uses == 3 and row.code_hash != code and len(row.code_hash) == 64


@pytest.mark.parametrize("args", [["--uses", "0"], ["--days", "x"], ["--days", "3651"]])
def test_the_code_command_refuses_bad_numbers_naming_the_flag(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["code", *args])
    assert exited.value.code == 2
    assert args[0] in capsys.readouterr().err
