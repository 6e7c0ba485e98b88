"""Embedding providers: the local model shipped in a wheel, or an OpenAI-compatible endpoint."""

from __future__ import annotations

from ...config import Settings
from .base import EmbeddingError, EmbeddingProvider, Vectors, normalise
from .local import WordLlamaProvider
from .remote import OpenAICompatibleProvider


def provider_from_settings(settings: Settings) -> EmbeddingProvider:
    """The provider ``TLDW_EMBEDDING_PROVIDER`` names (``local`` by default)."""
    if settings.embedding_provider == "openai":
        assert settings.embedding_api_url and settings.embedding_model  # Settings checks both
        key = settings.embedding_api_key
        return OpenAICompatibleProvider(
            settings.embedding_api_url,
            settings.embedding_model,
            api_key=key.get_secret_value() if key else None,
        )
    return WordLlamaProvider()


__all__ = [
    "EmbeddingError",
    "EmbeddingProvider",
    "OpenAICompatibleProvider",
    "Vectors",
    "WordLlamaProvider",
    "normalise",
    "provider_from_settings",
]
