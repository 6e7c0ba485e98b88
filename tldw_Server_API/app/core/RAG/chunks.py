"""How an item is cut for retrieval, one rule for the indexer and for chunk-level search.

Chunks are exact slices of the item's content (offsets stay valid), about
:data:`CHUNK_CHARS` characters each, cut at paragraph breaks by the store's chunker.
Each chunk is embedded with the item's title in front (a chunk about "it" still
carries what "it" is); an item with no content is one chunk: its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..DB_Management.stores.chunking import ChunkSpan, split_content

CHUNK_CHARS = 1200
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = frozenset({"OR", "AND", "NOT", "NEAR"})


@dataclass(frozen=True)
class ItemChunks:
    spans: list[ChunkSpan]
    texts_to_embed: list[str]


def chunk_item(title: str | None, content: str | None) -> ItemChunks:
    """The chunks of one item and the text each is embedded from."""
    title = (title or "").strip()
    body = content or ""
    if not body.strip():
        return ItemChunks([ChunkSpan(title, None, None)], [title])
    target = max(1, -(-len(body.strip()) // CHUNK_CHARS))
    spans = split_content(body, target)
    return ItemChunks(spans, [f"{title}\n{span.text}" if title else span.text for span in spans])


def query_words(query: str) -> list[str]:
    """The plain words of a query (operators and syntax left out), case-folded."""
    return [w.casefold() for w in _WORD.findall(query) if w not in _OPERATORS]


def words_found(text: str, words: list[str]) -> int:
    """How many of *words* occur in *text* (case-insensitive)."""
    folded = text.casefold()
    return sum(1 for word in set(words) if word in folded)
