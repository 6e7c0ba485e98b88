"""How a user's stores are built, for the API's routes and the WebUI's pages alike.

Media on the user's Media database, notes, characters and chats on their ChaChaNotes
database, each acting as :data:`CLIENT_ID` (the name their sync log records); analytics on
the server's database, seen as the user. The databases are the caller's lease (see
``deps.py``): a store is only valid while that lease lasts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.DB_Management.registry import DatabaseRegistry, UserDatabases
from ..core.DB_Management.stores import (
    AnalyticsStore,
    CharacterStore,
    ChatStore,
    MediaStore,
    NotesStore,
)

CLIENT_ID = "tldw-api"


def user_analytics(registry: DatabaseRegistry, user_id: str) -> AnalyticsStore:
    """The user's share of the server's analytics (no database of the user's own needed)."""
    return AnalyticsStore(registry.analytics(), user_id=user_id)


@dataclass(frozen=True)
class UserStores:
    """One user's stores, each built anew on every access (cheap: a store keeps only handles)."""

    databases: UserDatabases
    registry: DatabaseRegistry

    @property
    def user_id(self) -> str:
        return self.databases.user_id

    @property
    def media(self) -> MediaStore:
        return MediaStore(self.databases.media, client_id=CLIENT_ID)

    @property
    def notes(self) -> NotesStore:
        return NotesStore(self.databases.chacha, client_id=CLIENT_ID)

    @property
    def characters(self) -> CharacterStore:
        return CharacterStore(self.databases.chacha, client_id=CLIENT_ID)

    @property
    def chats(self) -> ChatStore:
        return ChatStore(self.databases.chacha, client_id=CLIENT_ID)

    @property
    def analytics(self) -> AnalyticsStore:
        return user_analytics(self.registry, self.user_id)
