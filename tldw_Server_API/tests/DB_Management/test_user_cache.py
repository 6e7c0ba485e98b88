"""Users' databases open on first use, in a bounded cache that evicts the least recently
used idle user, on both backends.

The registry is real (real SQLite files, real PostgreSQL schemas); what exists is read
from the files, the PostgreSQL catalogue and /proc, not from the registry's own books.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry, UserDatabases
from tldw_Server_API.app.core.DB_Management.stores import NotesStore
from tldw_Server_API.app.core.DB_Management.user_cache import UserCache
from tldw_Server_API.tests.DB_Management.user_storage import (
    users_with_databases,
    users_with_open_files,
)


@pytest.fixture
def small(settings: Settings) -> Iterator[DatabaseRegistry]:
    """A registry that keeps at most two users open."""
    registry = DatabaseRegistry(settings.model_copy(update={"user_cache_size": 2}))
    try:
        yield registry
    finally:
        registry.close()


def write_note(user: UserDatabases, title: str) -> str:
    return NotesStore(user.chacha).add_note(title, f"{title} content", []).id


def note_titles(user: UserDatabases) -> list[str]:
    return [note.title for note in NotesStore(user.chacha).list_notes()]


def test_opening_the_server_databases_creates_no_user_databases(
    small: DatabaseRegistry, settings: Settings
) -> None:
    small.open_server()

    assert users_with_databases(settings) == set()
    assert small.user_cache.open_users() == []


def test_a_first_use_creates_that_users_databases_only(
    small: DatabaseRegistry, settings: Settings
) -> None:
    with small.user("alice") as alice:
        assert alice.user_id == "alice"
        assert alice.states["media"].outcome == "created"

    assert users_with_databases(settings) == {"alice"}


def test_the_least_recently_used_idle_user_is_evicted_beyond_the_capacity(
    small: DatabaseRegistry,
) -> None:
    for user_id in ("alice", "bob", "alice", "carol"):
        with small.user(user_id):
            pass

    assert small.user_cache.open_users() == ["alice", "carol"]


def test_an_evicted_sqlite_users_files_are_closed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "Databases", user_cache_size=1)
    registry = DatabaseRegistry(settings)
    try:
        with registry.user("alice") as alice:
            write_note(alice, "kept")
        assert users_with_open_files(settings) == {"alice"}

        with registry.user("bob"):
            pass

        assert users_with_open_files(settings) == {"bob"}
    finally:
        registry.close()
    assert users_with_open_files(settings) == set()


def test_an_evicted_user_reopens_with_their_data_intact(small: DatabaseRegistry) -> None:
    with small.user("alice") as alice:
        write_note(alice, "before eviction")
    for user_id in ("bob", "carol"):
        with small.user(user_id):
            pass
    assert "alice" not in small.user_cache.open_users()

    with small.user("alice") as alice:
        assert alice.states["media"].outcome == "current"
        assert note_titles(alice) == ["before eviction"]


def test_a_user_in_use_is_not_evicted_until_released(small: DatabaseRegistry) -> None:
    with small.user("alice") as alice:
        for user_id in ("bob", "carol", "dave"):
            with small.user(user_id):
                pass
        assert "alice" in small.user_cache.open_users()
        write_note(alice, "written while others came and went")
        assert note_titles(alice) == ["written while others came and went"]

    with small.user("erin"):
        pass
    assert "alice" not in small.user_cache.open_users()
    assert len(small.user_cache.open_users()) == 2


def test_concurrent_first_uses_of_a_cold_user_open_it_once(small: DatabaseRegistry) -> None:
    threads = 8
    barrier = threading.Barrier(threads)
    seen: list[UserDatabases] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            barrier.wait()
            with small.user("alice") as alice:
                seen.append(alice)
                write_note(alice, f"note {threading.get_ident()}")
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=first_use) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert len({id(handles) for handles in seen}) == 1
    assert seen[0].states["chacha"].outcome == "created"
    with small.user("alice") as alice:
        assert len(note_titles(alice)) == threads


def test_an_evicted_users_slot_never_serves_another_user(small: DatabaseRegistry) -> None:
    with small.user("alice") as alice:
        write_note(alice, "alice's secret")
    for user_id in ("bob", "carol", "alice", "dave", "bob"):
        with small.user(user_id) as user:
            assert user.user_id == user_id
            assert user.media.user_id == user_id and user.chacha.user_id == user_id
            titles = note_titles(user)
            if user_id == "alice":
                assert titles == ["alice's secret"]
            else:
                assert "alice's secret" not in titles


def test_a_user_whose_opening_failed_is_opened_again_on_the_next_use() -> None:
    attempts: list[str] = []

    def open_user(user_id: str) -> str:
        attempts.append(user_id)
        if len(attempts) == 1:
            raise OSError("disk full")
        return f"handles of {user_id}"

    cache: UserCache[str] = UserCache(2, open_user, lambda user_id, handles: None)
    with pytest.raises(OSError, match="disk full"):
        cache.acquire("alice")
    assert cache.open_users() == []

    with cache.lease("alice") as handles:
        assert handles == "handles of alice"
    assert attempts == ["alice", "alice"]


def test_an_invalid_user_id_is_refused_before_anything_is_created(
    small: DatabaseRegistry, settings: Settings
) -> None:
    with pytest.raises(ValueError, match=r"user id '\.\./x' is invalid"), small.user("../x"):
        pass
    assert users_with_databases(settings) == set()


def test_reporting_what_is_open_does_not_count_as_a_use(small: DatabaseRegistry) -> None:
    for user_id in ("alice", "bob"):
        with small.user(user_id):
            pass

    assert set(small.states) >= {("media", "alice"), ("chacha", "bob")}
    with small.user("carol"):
        pass

    assert small.user_cache.open_users() == ["bob", "carol"]
