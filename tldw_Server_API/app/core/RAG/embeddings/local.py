"""The default provider: WordLlama's 256-dimension model, shipped inside its PyPI wheel.

Nothing is downloaded, ever: the weights and the tokenizer file are read from the
installed package's own folder (``disable_download=True``; the loader's default
cache directory is elsewhere, and would make it look for a download). A static
word-embedding model needs no torch and embeds thousands of chunks a second on
one core, which is what lets a fresh, offline installation index its media.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import EmbeddingError, EmbeddingProvider, Vectors

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIMENSIONS = 256


class WordLlamaProvider(EmbeddingProvider):
    """WordLlama ``l2_supercat`` at 256 dimensions, loaded on first use."""

    model_id = f"wordllama:{WORDLLAMA_CONFIG}:{WORDLLAMA_DIMENSIONS}"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return WORDLLAMA_DIMENSIONS

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import wordllama
                    from wordllama import WordLlama
                except ImportError as exc:
                    raise EmbeddingError(
                        "the local embedding model needs the 'wordllama' package"
                    ) from exc
                folder = Path(wordllama.__file__).parent
                try:
                    self._model = WordLlama.load(
                        config=WORDLLAMA_CONFIG,
                        dim=WORDLLAMA_DIMENSIONS,
                        cache_dir=folder,
                        disable_download=True,
                    )
                except (OSError, ValueError) as exc:
                    raise EmbeddingError(
                        f"{self.model_id}: the model files shipped in {folder} "
                        f"cannot be loaded ({exc.__class__.__name__})"
                    ) from exc
            return self._model

    def _embed(self, texts: Sequence[str]) -> Vectors:
        model = self._load()
        return np.asarray(model.embed(list(texts), norm=False), dtype=np.float32)
