"""The default chunker: a few chunks per document, cut at paragraph breaks when possible.

Chunks are what RAG retrieval and claim extraction work on. Without a chunker
of their own, callers get about :data:`DEFAULT_CHUNKS` chunks per document;
each chunk is an exact slice ``content[start:end]``, so offsets stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_CHUNKS = 4
MIN_CHUNK_CHARS = 32  # below this a chunk carries too little text to retrieve or cite
_PARAGRAPH = re.compile(r"\S[\s\S]*?(?=\n[ \t]*\n|\Z)")


@dataclass(frozen=True)
class ChunkSpan:
    text: str
    start: int | None
    end: int | None


def split_content(content: str, target_chunks: int = DEFAULT_CHUNKS) -> list[ChunkSpan]:
    """Cut *content* into about *target_chunks* slices, at paragraph breaks or spaces.

    Short documents get fewer chunks: none is cut below :data:`MIN_CHUNK_CHARS`.
    """
    if not content.strip():
        return []
    size = max(MIN_CHUNK_CHARS, -(-len(content.strip()) // max(1, target_chunks)))
    pieces: list[tuple[int, int]] = []
    for match in _PARAGRAPH.finditer(content):
        pieces.extend(_cut_long(content, match.start(), match.end(), size))
    return [ChunkSpan(content[a:b], a, b) for a, b in _group(pieces, size)]


def _cut_long(content: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """A paragraph longer than twice the target is cut at the last space before each limit."""
    spans: list[tuple[int, int]] = []
    while end - start > 2 * size:
        cut = content.rfind(" ", start + 1, start + size + 1)
        cut = cut if cut > start else start + size
        spans.append((start, cut))
        start = cut
        while start < end and content[start].isspace():
            start += 1
    if start < end:
        spans.append((start, end))
    return spans


def _group(pieces: Sequence[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Join consecutive pieces while a group is short and stays under 1.5 times the target."""
    groups: list[tuple[int, int]] = []
    for start, end in pieces:
        if groups and groups[-1][1] - groups[-1][0] < size and end - groups[-1][0] <= size * 3 // 2:
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    return groups


def locate_chunks(content: str, chunks: Sequence[str]) -> list[ChunkSpan]:
    """Spans for caller-made chunks: each found after the previous one, else offsets unknown."""
    spans: list[ChunkSpan] = []
    cursor = 0
    for chunk in chunks:
        at = content.find(chunk, cursor) if chunk else -1
        if at >= 0:
            spans.append(ChunkSpan(chunk, at, at + len(chunk)))
            cursor = at + len(chunk)
        else:
            spans.append(ChunkSpan(chunk, None, None))
    return spans
