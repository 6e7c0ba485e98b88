"""What an embedding provider is: texts in, one unit-length float32 row per text out.

Every stored vector carries its provider's :attr:`EmbeddingProvider.model_id`, so
vectors of two models are never compared, and a change of model is seen (and the
items re-embedded) rather than silently mixed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbeddingError(RuntimeError):
    """The provider could not embed (unreachable endpoint, malformed answer, missing model).

    Messages name the provider and what went wrong, never the texts or a key.
    """


class EmbeddingProvider(ABC):
    """A model that turns texts into vectors of a fixed dimension."""

    #: Names the model (and its dimension) that made a vector; stored beside it.
    model_id: str

    @property
    @abstractmethod
    def dimensions(self) -> int:
        """The length of every vector this provider returns."""

    @abstractmethod
    def _embed(self, texts: Sequence[str]) -> Vectors:
        """Raw vectors, one row per text (any length; :meth:`embed` normalises)."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length float32 row per text (a zero row for a text with no known word).

        Unit length makes cosine similarity a dot product, on every backend alike.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        raw = np.asarray(self._embed(list(texts)), dtype=np.float32)
        if raw.shape != (len(texts), self.dimensions):
            raise EmbeddingError(
                f"{self.model_id}: expected {len(texts)} vectors of {self.dimensions} "
                f"numbers, got an array of shape {raw.shape}"
            )
        return normalise(raw)

    def embed_one(self, text: str) -> Vectors:
        """The vector of one text (a query)."""
        return self.embed([text])[0]


def normalise(rows: Vectors) -> Vectors:
    """*rows* scaled to unit length; all-zero rows stay zero (they match nothing)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (rows / norms).astype(np.float32, copy=False)
