"""Any OpenAI-compatible embeddings endpoint (``POST <base>/embeddings``), by URL and model.

llama.cpp's server, Ollama, vLLM, LM Studio, text-embeddings-inference and OpenAI
itself answer this shape: ``{"model": ..., "input": [texts]}`` in,
``{"data": [{"index": i, "embedding": [...]}, ...]}`` out. Texts go in batches;
the dimension is learned from the first answer. Errors name the endpoint's host and
the HTTP status, never the texts or the key.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from .base import EmbeddingError, EmbeddingProvider, Vectors

BATCH_SIZE = 64
TIMEOUT_SECONDS = 60.0


def embeddings_url(base_url: str) -> str:
    """``<base>/embeddings`` for a base such as ``http://host:8080/v1`` (a full URL as is)."""
    url = base_url.rstrip("/")
    return url if url.endswith("/embeddings") else f"{url}/embeddings"


class OpenAICompatibleProvider(EmbeddingProvider):
    """Embeddings from an OpenAI-compatible HTTP endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        dimensions: int | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url = embeddings_url(base_url)
        self.model = model
        self.model_id = f"openai:{model}"
        self._host = urlsplit(self.url).netloc.rpartition("@")[2]
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._dimensions = dimensions
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self._dimensions = len(self._request(["dimension probe"])[0])
        return self._dimensions

    def _embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            rows.extend(self._request(texts[start : start + BATCH_SIZE]))
        if self._dimensions is None:  # learned from the first real answer: no extra request
            self._dimensions = len(rows[0])
        return np.asarray(rows, dtype=np.float32)

    def _request(self, texts: Sequence[str]) -> list[list[float]]:
        where = f"the embeddings endpoint at {self._host}"
        try:
            with self._lock:  # one request at a time: local servers queue them anyway
                answer = self._client.post(self.url, json={"model": self.model, "input": texts})
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"{where} cannot be reached ({exc.__class__.__name__})") from None
        if answer.status_code != 200:
            raise EmbeddingError(f"{where} answered HTTP {answer.status_code}")
        try:
            data: list[dict[str, Any]] = answer.json()["data"]
            ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
            rows = [[float(x) for x in item["embedding"]] for item in ordered]
        except (ValueError, KeyError, TypeError):
            raise EmbeddingError(f"{where} did not answer in the embeddings shape") from None
        if len(rows) != len(texts) or len({len(row) for row in rows}) > 1:
            raise EmbeddingError(
                f"{where} returned {len(rows)} vectors of unequal or wrong count "
                f"for {len(texts)} texts"
            )
        return rows

    def close(self) -> None:
        self._client.close()
