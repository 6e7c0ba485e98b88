"""Users never share rows: separate files on SQLite, separate schemas on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from tldw_Server_API.app.core.DB_Management.backends.base import Database
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry, InvalidUserId
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NotesStore, NotFound
from tldw_Server_API.tests.conftest import settings_for


def _entities(database: Database) -> set[str]:
    log = database.table("sync_log")
    with database.begin(write=False) as conn:
        return set(conn.execute(select(log.c.entity).distinct()).scalars())


def test_each_users_media_ids_start_at_one(registry: DatabaseRegistry) -> None:
    alice, bob = MediaStore(registry.media("alice")), MediaStore(registry.media("bob"))
    assert alice.add_media("Alice's doc", "apples", "article").id == 1
    assert bob.add_media("Bob's doc", "bananas", "article").id == 1
    assert alice.add_media("Alice's second", "apricots", "article").id == 2
    assert bob.add_media("Bob's second", "blueberries", "article").id == 2


def test_a_user_cannot_see_another_users_media(registry: DatabaseRegistry) -> None:
    alice, bob = MediaStore(registry.media("alice")), MediaStore(registry.media("bob"))
    alice.add_media("Alice's doc", "apples", "article")
    bob_item = bob.add_media("Bob's doc", "bananas", "article")
    bob.add_media("Bob's other", "bananas again", "article")
    assert [m.title for m in alice.list_media()] == ["Alice's doc"]
    assert alice.search_media("bananas") == []
    with pytest.raises(NotFound):
        alice.get_media(2)
    with pytest.raises(NotFound):
        alice.get_media_by_uuid(bob_item.uuid)


def test_a_user_cannot_update_or_delete_another_users_media(registry: DatabaseRegistry) -> None:
    alice, bob = MediaStore(registry.media("alice")), MediaStore(registry.media("bob"))
    alice.add_media("Alice's doc", "apples", "article")
    bob.add_media("Bob's doc", "bananas", "article")
    alice.update_media(1, 1, title="Alice renamed")
    alice.soft_delete(1)
    untouched = bob.get_media(1)
    assert (untouched.title, untouched.version, untouched.deleted) == ("Bob's doc", 1, False)
    with pytest.raises(NotFound):
        alice.update_media(2, 1, title="not mine")


def test_a_user_cannot_reach_another_users_notes(registry: DatabaseRegistry) -> None:
    alice, bob = NotesStore(registry.chacha("alice")), NotesStore(registry.chacha("bob"))
    alice.add_note("Alice's note", "private thoughts")
    secret = bob.add_note("Bob's note", "secret plans")
    with pytest.raises(NotFound):
        alice.get_note(secret.id)
    with pytest.raises(NotFound):
        alice.update_note(secret.id, 1, title="hijacked")
    with pytest.raises(NotFound):
        alice.soft_delete_note(secret.id)
    assert alice.search_notes("secret") == []
    assert bob.get_note(secret.id).version == 1


def test_media_and_notes_keywords_do_not_collide(registry: DatabaseRegistry) -> None:
    media, notes = MediaStore(registry.media()), NotesStore(registry.chacha())
    media.add_media("Doc", "x", "article", keywords=["media-only"])
    notes.add_note("Note", "y", ["note-only"])
    assert media.list_keywords() == ["media-only"]
    assert notes.list_keywords() == ["note-only"]


def test_media_and_notes_sync_logs_do_not_collide(registry: DatabaseRegistry) -> None:
    media, notes = MediaStore(registry.media()), NotesStore(registry.chacha())
    media.add_media("Doc", "x", "article", keywords=["k"])
    notes.add_note("Note", "y", ["k"])
    assert "Media" in _entities(media.database) and "notes" not in _entities(media.database)
    assert _entities(notes.database) == {"notes", "keywords"}


def test_an_unsafe_user_id_is_refused(registry: DatabaseRegistry) -> None:
    for user_id in ("../1", "a b", "x;drop", "é"):
        with pytest.raises(InvalidUserId, match=r"user id .* is invalid"):
            registry.media(user_id)


def test_the_guides_checks_work_on_a_fresh_psql_style_connection(
    pg_database: PgTarget, tmp_path: Path
) -> None:
    registry = DatabaseRegistry(settings_for("postgresql", tmp_path, pg_database))
    try:
        registry.open_all()
        store = MediaStore(registry.media())
        item = store.add_media("Doc", "text", "article")
        store.add_media("Doc 2", "text", "article")
        store.claims.add(item.id, ["a claim"])
    finally:
        registry.close()
    with psycopg.connect(pg_database.conninfo()) as conn:
        counts = [
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("media", "claims", "workflow_runs", "workflow_steps")
        ]
    assert counts == [2, 1, 0, 0]
