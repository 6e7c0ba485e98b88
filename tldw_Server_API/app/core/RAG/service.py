"""Retrieval as the server runs it: one provider, one indexer and its background thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..config import Settings
from ..DB_Management.registry import DatabaseRegistry
from .embeddings import EmbeddingProvider, provider_from_settings
from .indexer import Indexer
from .worker import EmbeddingWorker


class RagService:
    """What ``/api/v1/rag`` needs: the provider, and the indexer keeping vectors current."""

    def __init__(
        self,
        registry: DatabaseRegistry,
        settings: Settings,
        users: Callable[[], Sequence[str]],
        provider: EmbeddingProvider | None = None,
    ) -> None:
        self.settings = settings
        self.provider = provider or provider_from_settings(settings)
        self.indexer = Indexer(registry, self.provider)
        self.worker = EmbeddingWorker(self.indexer, users)

    def start(self) -> RagService:
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
