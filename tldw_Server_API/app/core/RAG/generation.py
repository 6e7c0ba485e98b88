"""An answer written from retrieved documents by an OpenAI-compatible chat endpoint.

The documents go to the model numbered ``[1]``, ``[2]``, ...; it is asked to cite them
by number, and each number it cites becomes a citation naming the document. Errors
name the endpoint's host and the HTTP status, never the prompt or the key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..config import Settings
from .search import RagDocument

NOT_CONFIGURED = (
    "no chat endpoint is configured: set TLDW_CHAT_API_URL and TLDW_CHAT_MODEL to enable generation"
)
CONTEXT_CHARS = 2000  # of each document, so that ten documents fit a small model's window
_CITATION = re.compile(r"\[(\d{1,3})\]")
SYSTEM_PROMPT = (
    "Answer the question using only the numbered documents. Cite the documents you use "
    "as [1], [2], ... right after the statement they support. If the documents do not "
    "answer the question, say so."
)


class GenerationError(RuntimeError):
    """The chat endpoint could not answer."""


@dataclass(frozen=True)
class Generated:
    answer: str
    citations: list[dict[str, object]]


def generate(settings: Settings, question: str, documents: Sequence[RagDocument]) -> Generated:
    """The endpoint's answer to *question* from *documents*, with the citations it made."""
    if not (settings.chat_api_url and settings.chat_model):
        raise GenerationError(NOT_CONFIGURED)
    url = settings.chat_api_url.rstrip("/")
    url = url if url.endswith("/chat/completions") else f"{url}/chat/completions"
    host = urlsplit(url).netloc.rpartition("@")[2]
    context = "\n\n".join(
        f"[{number}] {doc.content[:CONTEXT_CHARS]}" for number, doc in enumerate(documents, 1)
    )
    key = settings.chat_api_key
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    body = {
        "model": settings.chat_model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Documents:\n{context}\n\nQuestion: {question}"},
        ],
    }
    try:
        answer = httpx.post(url, json=body, headers=headers, timeout=120.0)
    except httpx.HTTPError as exc:
        raise GenerationError(
            f"the chat endpoint at {host} cannot be reached ({exc.__class__.__name__})"
        ) from None
    if answer.status_code != 200:
        raise GenerationError(f"the chat endpoint at {host} answered HTTP {answer.status_code}")
    try:
        text = str(answer.json()["choices"][0]["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise GenerationError(
            f"the chat endpoint at {host} did not answer in the chat shape"
        ) from None
    cited = dict.fromkeys(int(n) for n in _CITATION.findall(text))
    citations: list[dict[str, object]] = [
        {"number": n, "document_id": documents[n - 1].id, "source": documents[n - 1].source}
        for n in cited
        if 1 <= n <= len(documents)
    ]
    return Generated(text, citations)
