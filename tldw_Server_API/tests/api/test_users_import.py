"""``tldw-users import-tldw``: the accounts of a tldw_server AuthNZ ``users.db`` (a file made
here with the columns of tldw_server's ``users`` table), imported on both backends by the real
command (a subprocess)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.users.passwords import Passwords
from tldw_Server_API.app.core.users.store import UserStore
from tldw_Server_API.app.core.users.tldw_import import RESET_HASH
from tldw_Server_API.tests.api.signin_server import run_users, settings_env

pytestmark = [pytest.mark.timeout(120)]

#: tldw_server's AuthNZ ``users`` table (its first migration's columns and two later ones).
TLDW_USERS = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    username TEXT UNIQUE NOT NULL,
    email TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    is_active INTEGER DEFAULT 1,
    is_superuser INTEGER DEFAULT 0,
    role TEXT DEFAULT 'user',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_login TIMESTAMP,
    email_verified INTEGER DEFAULT 0,
    storage_quota_mb INTEGER DEFAULT 5120,
    storage_used_mb INTEGER DEFAULT 0,
    totp_secret TEXT,
    two_factor_enabled INTEGER DEFAULT 0
)
"""
#: How tldw_server hashes (argon2-cffi with its AuthNZ settings' parameters).
TLDW_HASHER = PasswordHasher(memory_cost=32768, time_cost=2, parallelism=1)
ALICE_PASSWORD = "Alice-password-1!"
BCRYPT_LIKE = "$2b$12$" + "a" * 53


def tldw_users_db(path: Path, rows: list[tuple[int, str, str, str, int]]) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute(TLDW_USERS)
        conn.executemany(
            "INSERT INTO users (id, username, email, password_hash, is_active) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()
    return path


@pytest.fixture
def users_db(tmp_path: Path) -> Path:
    return tldw_users_db(
        tmp_path / "users.db",
        [
            (1, "Alice", "alice@example.org", TLDW_HASHER.hash(ALICE_PASSWORD), 1),
            (2, "bob", "bob@example.org", BCRYPT_LIKE, 1),
            (7, "carol", "carol@example.org", TLDW_HASHER.hash("Carol-password-1!"), 0),
        ],
    )


@pytest.fixture
def store(settings: Settings, tmp_path: Path) -> Iterator[UserStore]:
    assert settings.data_dir == tmp_path / "Databases"  # where the command looks (clean_env)
    registry = DatabaseRegistry(settings)
    try:
        yield UserStore(registry.users())
    finally:
        registry.close()


def test_accounts_keep_name_email_state_and_argon2_hash_with_tldw_ids(
    settings: Settings, tmp_path: Path, users_db: Path, store: UserStore
) -> None:
    done = run_users(tmp_path, settings_env(settings), "import-tldw", str(users_db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 3 account(s)")
    accounts = {a.username: a for a in store.accounts()}
    assert {n: (a.user_id, a.is_active) for n, a in accounts.items()} == {
        "alice": ("1", True),
        "bob": ("2", True),
        "carol": ("7", False),
    }
    found = store.credentials("alice")
    assert found is not None and Passwords().verify(found[1], ALICE_PASSWORD)


def test_a_hash_this_server_cannot_verify_marks_the_account_for_a_new_password(
    settings: Settings, tmp_path: Path, users_db: Path, store: UserStore
) -> None:
    done = run_users(tmp_path, settings_env(settings), "import-tldw", str(users_db))
    assert done.returncode == 0, done.stderr
    assert "cannot sign in until given one (tldw-users passwd NAME): bob" in done.stdout
    found = store.credentials("bob")
    assert found is not None and found[1] == RESET_HASH
    assert BCRYPT_LIKE not in done.stdout + done.stderr


def test_importing_again_skips_the_accounts_already_there(
    settings: Settings, tmp_path: Path, users_db: Path, store: UserStore
) -> None:
    env = settings_env(settings)
    assert run_users(tmp_path, env, "import-tldw", str(users_db)).returncode == 0
    again = run_users(tmp_path, env, "import-tldw", str(users_db))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("imported 0 account(s)")
    assert "skipped 3 whose name or user id an account already has" in again.stdout
    assert len(store.accounts()) == 3


def test_a_file_without_password_hashes_is_refused_and_imports_nothing(
    settings: Settings, tmp_path: Path, store: UserStore
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT)")
        conn.execute("INSERT INTO users VALUES (1, 'dave')")
    conn.close()
    done = run_users(tmp_path, settings_env(settings), "import-tldw", str(path))
    assert done.returncode == 2
    assert f"{path}: table users: no column password_hash" in done.stderr
    assert store.accounts() == []


def test_a_row_with_a_bad_name_is_named_and_imports_nothing(
    settings: Settings, tmp_path: Path, store: UserStore
) -> None:
    hashed = TLDW_HASHER.hash("x")
    path = tldw_users_db(
        tmp_path / "users.db", [(1, "erin", "e@x.org", hashed, 1), (2, " ", "f@x.org", hashed, 1)]
    )
    done = run_users(tmp_path, settings_env(settings), "import-tldw", str(path))
    assert done.returncode == 2
    assert "table users: row id=2: column username" in done.stderr
    assert store.accounts() == []


def test_no_password_matches_the_hash_of_an_account_needing_a_new_one() -> None:
    passwords = Passwords()
    assert not passwords.verify(RESET_HASH, "")
    assert not passwords.verify(RESET_HASH, RESET_HASH)
