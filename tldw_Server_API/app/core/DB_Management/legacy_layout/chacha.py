"""ChaChaNotes.db: characters, conversations, messages, notes, keywords and their FTS5 tables."""

from __future__ import annotations

from .layout import CHACHA_TIMES, Fts

# --------------------------------------------------------------------------------------------
# ChaChaNotes.db (its db_schema_version row is added per layout)
# --------------------------------------------------------------------------------------------


def _keyword_links(name: str, owner: str, owner_table: str) -> str:
    """A table linking keywords to the rows of *owner_table*; *owner* is its column and type."""
    column = owner.split()[0]
    return f"""CREATE TABLE {name} (
    {owner} NOT NULL REFERENCES {owner_table}(id) ON DELETE CASCADE,
    keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ({column}, keyword_id)
);"""


# conversations -> messages is a forward reference: SQLite resolves foreign keys when they are
# enforced, not when the table is created, which is how the cycle exists in users' files.
CHACHA_TABLES = f"""
CREATE TABLE character_cards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    description TEXT,
    personality TEXT,
    scenario TEXT,
    system_prompt TEXT,
    image BLOB,
    post_history_instructions TEXT,
    first_message TEXT,
    message_example TEXT,
    creator_notes TEXT,
    alternate_greetings TEXT,
    tags TEXT,
    creator TEXT,
    character_version TEXT,
    extensions TEXT,{CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    root_id TEXT NOT NULL,
    forked_from_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
    parent_conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    character_id INTEGER REFERENCES character_cards(id) ON DELETE CASCADE,
    title TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),{CHACHA_TIMES},
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
    sender TEXT NOT NULL,
    content TEXT,
    image_data BLOB,
    image_mime_type TEXT,
    timestamp DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ranking INTEGER,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    content TEXT NOT NULL,{CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    message_id TEXT REFERENCES messages(id) ON DELETE SET NULL
);
CREATE TABLE keywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    keyword TEXT UNIQUE NOT NULL COLLATE NOCASE,{CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE keyword_collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    parent_id INTEGER REFERENCES keyword_collections(id) ON DELETE SET NULL,{CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
{_keyword_links("conversation_keywords", "conversation_id TEXT", "conversations")}
{_keyword_links("collection_keywords", "collection_id INTEGER", "keyword_collections")}
{_keyword_links("note_keywords", "note_id TEXT", "notes")}
CREATE TABLE sync_log (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    timestamp DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE db_schema_version (
    schema_name TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
);
"""

CHACHA_FTS: tuple[Fts, ...] = (
    Fts(
        "character_cards_fts",
        "character_cards",
        ("name", "description", "personality", "scenario", "system_prompt"),
        key="id",
    ),
    Fts("conversations_fts", "conversations", ("title",)),
    Fts("messages_fts", "messages", ("content",)),
    Fts("keywords_fts", "keywords", ("keyword",), key="id"),
    Fts("keyword_collections_fts", "keyword_collections", ("name",), key="id"),
    Fts("notes_fts", "notes", ("title", "content")),
)
