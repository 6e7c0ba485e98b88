"""The ChaChaNotes stores on both backends: notes, keywords, characters, conversations, messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import (
    CharacterStore,
    ChatStore,
    InvalidInput,
    NotesStore,
    NotFound,
    VersionConflict,
)

T0 = datetime(2025, 10, 8, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def settings(user_settings: Settings) -> Settings:
    """A fresh installation per test, cheaply (overrides the suite's fixture)."""
    return user_settings


@pytest.fixture
def notes(registry: DatabaseRegistry) -> NotesStore:
    return NotesStore(registry.chacha(), client_id="tester")


@pytest.fixture
def characters(registry: DatabaseRegistry) -> CharacterStore:
    return CharacterStore(registry.chacha())


@pytest.fixture
def chats(registry: DatabaseRegistry) -> ChatStore:
    return ChatStore(registry.chacha())


# -- notes -----------------------------------------------------------------------------------


def test_a_note_gets_a_uuid4_id_and_version_one(notes: NotesStore) -> None:
    note = notes.add_note("Groceries", "milk, eggs")
    assert len(note.id) == 36 and note.id[14] == "4"
    assert (note.title, note.content, note.version, note.client_id) == (
        "Groceries",
        "milk, eggs",
        1,
        "tester",
    )
    assert notes.get_note(note.id) == note


def test_notes_are_listed_most_recently_changed_first(notes: NotesStore) -> None:
    first = notes.add_note("first", "a")
    second = notes.add_note("second", "b")
    notes.update_note(first.id, 1, content="touched")
    assert [n.id for n in notes.list_notes()][:2] == [first.id, second.id]
    assert [n.title for n in notes.list_notes(order="title")] == ["first", "second"]


def test_update_note_checks_the_version(notes: NotesStore) -> None:
    note = notes.add_note("t", "c")
    assert notes.update_note(note.id, 1, title="t2").version == 2
    with pytest.raises(VersionConflict, match=f"notes '{note.id}': expected version 1"):
        notes.update_note(note.id, 1, title="stale")


def test_soft_deleted_notes_are_hidden_until_restored(notes: NotesStore) -> None:
    note = notes.add_note("Hidden gem", "aardvark")
    notes.soft_delete_note(note.id)
    assert notes.list_notes() == [] and notes.count_notes() == 0
    assert notes.search_notes("aardvark") == []
    with pytest.raises(NotFound):
        notes.get_note(note.id)
    assert notes.restore_note(note.id).version == 3
    assert [h.id for h in notes.search_notes("aardvark")] == [note.id]


def test_note_search_ranks_title_matches_first(notes: NotesStore) -> None:
    body = notes.add_note("Shopping", "buy a telescope")
    title = notes.add_note("Telescope manual", "focus, then look")
    hits = notes.search_notes("telescope")
    assert [(h.id, h.title_hit) for h in hits] == [(title.id, True), (body.id, False)]
    assert "telescope" in hits[1].snippet


def test_note_keywords_follow_sqlite_nocase(notes: NotesStore) -> None:
    note = notes.add_note("t", "c", ["Work", "work", "ÉTÉ", "été"])
    assert sorted(note.keywords) == sorted(["Work", "ÉTÉ", "été"])
    assert notes.notes_with_keyword("WORK") == [note.id]
    assert notes.notes_with_keyword("ete") == []


def test_set_note_keywords_replaces_them(notes: NotesStore) -> None:
    note = notes.add_note("t", "c", ["a", "b"])
    assert notes.set_note_keywords(note.id, ["b", "c"]) == ["b", "c"]
    assert notes.update_note(note.id, 1, keywords=["d"]).keywords == ["d"]


def test_notes_changes_are_logged_by_the_database(notes: NotesStore) -> None:
    note = notes.add_note("t", "c")
    notes.update_note(note.id, 1, title="t2")
    notes.soft_delete_note(note.id)
    log = notes.database.table("sync_log")
    with notes.database.begin(write=False) as conn:
        rows = conn.execute(
            select(log.c.operation, log.c.version)
            .where(log.c.entity == "notes", log.c.entity_id == note.id)
            .order_by(log.c.change_id)
        ).all()
    assert [tuple(r) for r in rows] == [("create", 1), ("update", 2), ("delete", 3)]


# -- characters ------------------------------------------------------------------------------


def test_characters_are_added_and_read_back(characters: CharacterStore) -> None:
    card = characters.add_character(
        "Ada",
        description="Analyst",
        tags=["math", "engines"],
        image=b"\x89PNG\x00\x01",
    )
    got = characters.get_character(card.id)
    assert (got.name, got.description, got.tags, got.image) == (
        "Ada",
        "Analyst",
        '["math", "engines"]',
        b"\x89PNG\x00\x01",
    )
    assert characters.get_character_by_name("Ada").id == card.id


def test_character_names_are_unique(characters: CharacterStore) -> None:
    card = characters.add_character("Ada")
    with pytest.raises(InvalidInput, match=f"already belongs to character id {card.id}"):
        characters.add_character("Ada")


def test_characters_are_updated_with_a_version_check(characters: CharacterStore) -> None:
    card = characters.add_character("Ada", personality="curious")
    updated = characters.update_character(card.id, 1, personality="bold", name="Ada L.")
    assert (updated.name, updated.personality, updated.version) == ("Ada L.", "bold", 2)
    with pytest.raises(VersionConflict):
        characters.update_character(card.id, 1, personality="stale")


def test_deleted_characters_are_not_listed(characters: CharacterStore) -> None:
    keep, gone = characters.add_character("Keep"), characters.add_character("Gone")
    characters.delete_character(gone.id)
    assert [c.id for c in characters.list_characters()] == [keep.id]
    with pytest.raises(NotFound):
        characters.get_character(gone.id)
    assert characters.restore_character(gone.id).name == "Gone"


# -- conversations and messages --------------------------------------------------------------


def test_a_new_conversation_is_its_own_root(chats: ChatStore, characters: CharacterStore) -> None:
    card = characters.add_character("Guide")
    conversation = chats.create_conversation("Trip", character_id=card.id, rating=4)
    assert conversation.root_id == conversation.id
    assert (conversation.character_id, conversation.rating) == (card.id, 4)
    assert chats.create_conversation().character_id is None


def test_a_conversation_with_an_unknown_character_is_refused(chats: ChatStore) -> None:
    with pytest.raises(NotFound, match="character_cards 404"):
        chats.create_conversation("x", character_id=404)


def test_a_rating_outside_one_to_five_is_refused(chats: ChatStore) -> None:
    with pytest.raises(InvalidInput, match="rating must be an integer from 1 to 5, got 6"):
        chats.create_conversation("x", rating=6)


def test_messages_are_listed_in_timestamp_order(chats: ChatStore) -> None:
    conversation = chats.create_conversation("Chat")
    late = chats.add_message(conversation.id, "user", "second", timestamp=T0 + timedelta(seconds=5))
    early = chats.add_message(conversation.id, "user", "first", timestamp=T0)
    reply = chats.add_message(
        conversation.id,
        "assistant",
        "third",
        parent_message_id=late.id,
        timestamp=T0 + timedelta(seconds=9),
    )
    listed = chats.list_messages(conversation.id)
    assert [m.id for m in listed] == [early.id, late.id, reply.id]
    assert listed[0].timestamp == T0 and listed[2].parent_message_id == late.id


def test_a_fork_keeps_the_root_and_points_at_its_origin(chats: ChatStore) -> None:
    conversation = chats.create_conversation("Original")
    message = chats.add_message(conversation.id, "user", "branch here")
    fork = chats.fork_conversation(message.id)
    fork_of_fork = chats.fork_conversation(chats.add_message(fork.id, "user", "again").id, "Deep")
    assert (fork.root_id, fork.parent_conversation_id, fork.forked_from_message_id) == (
        conversation.id,
        conversation.id,
        message.id,
    )
    assert fork.title == "Original" and fork_of_fork.title == "Deep"
    assert fork_of_fork.root_id == conversation.id
    assert chats.list_messages(fork.id)[0].content == "again"


def test_message_search_skips_deleted_conversations(chats: ChatStore) -> None:
    live = chats.create_conversation("Live")
    gone = chats.create_conversation("Gone")
    found = chats.add_message(live.id, "user", "the quokka smiled")
    chats.add_message(gone.id, "user", "another quokka")
    chats.soft_delete_conversation(gone.id)
    hits = chats.search_messages("quokka")
    assert [(h.id, h.title) for h in hits] == [(found.id, "user")]
    assert chats.search_messages("quokka", conversation_id=gone.id) == []


def test_messages_are_updated_with_a_version_check(chats: ChatStore) -> None:
    conversation = chats.create_conversation()
    message = chats.add_message(conversation.id, "user", "typo")
    assert chats.update_message(message.id, 1, content="fixed").content == "fixed"
    with pytest.raises(VersionConflict):
        chats.update_message(message.id, 1, content="stale")


def test_a_message_in_an_unknown_conversation_is_refused(chats: ChatStore) -> None:
    with pytest.raises(NotFound, match="conversations 'nope'"):
        chats.add_message("nope", "user", "hello")


def test_notes_can_point_at_a_conversation_and_message(chats: ChatStore, notes: NotesStore) -> None:
    conversation = chats.create_conversation("Chat")
    message = chats.add_message(conversation.id, "assistant", "an insight")
    note = notes.add_note(
        "Insight", "from the chat", conversation_id=conversation.id, message_id=message.id
    )
    assert (note.conversation_id, note.message_id) == (conversation.id, message.id)


def test_messages_written_within_one_millisecond_list_in_write_order(
    registry: DatabaseRegistry,
) -> None:
    chats = ChatStore(registry.chacha())
    conversation = chats.create_conversation(title="burst")
    written = [chats.add_message(conversation.id, "user", f"m{i}").id for i in range(30)]
    assert [m.id for m in chats.list_messages(conversation.id)] == written
