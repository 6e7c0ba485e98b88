"""Typed repositories over our databases: plain classes taking a ``Database`` handle.

Stores build statements with SQLAlchemy Core and ask ``database.dialect`` for the
few things the dialects say differently; they never branch on the backend. The
database itself enforces the sync rules (version + 1 on every update, one
``sync_log`` row per change), so stores bump versions and never write the log.
"""

from .analytics import AnalyticsStore, query_hash
from .characters import CharacterCard, CharacterStore
from .chats import ChatStore, Conversation, Message
from .errors import InvalidInput, NotFound, StoreError, VersionConflict
from .media import (
    Chunk,
    Claim,
    ClaimHit,
    DocumentVersion,
    MediaItem,
    MediaStore,
    NewClaim,
    Transcript,
)
from .notes import Note, NotesStore
from .search_hits import SearchHit

__all__ = [
    "AnalyticsStore",
    "CharacterCard",
    "CharacterStore",
    "ChatStore",
    "Chunk",
    "Claim",
    "ClaimHit",
    "Conversation",
    "DocumentVersion",
    "InvalidInput",
    "MediaItem",
    "MediaStore",
    "Message",
    "NewClaim",
    "NotFound",
    "Note",
    "NotesStore",
    "SearchHit",
    "StoreError",
    "Transcript",
    "VersionConflict",
    "query_hash",
]
