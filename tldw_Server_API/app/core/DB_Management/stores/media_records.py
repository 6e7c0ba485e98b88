"""What the Media store hands out: an item, its chunks, claims, versions and transcripts.

Plain frozen records, built from rows by :func:`._common.record_from_row`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MediaItem:
    id: int
    uuid: str
    version: int
    title: str
    content: str | None
    type: str
    author: str | None
    url: str | None
    keywords: list[str]
    created: datetime | None
    last_modified: datetime
    deleted: bool
    is_trash: bool
    trash_date: datetime | None
    content_hash: str
    client_id: str
    chunking_status: str
    transcription_model: str | None
    visibility: str | None
    owner_user_id: int | None


@dataclass(frozen=True)
class Chunk:
    id: int
    media_id: int
    chunk_id: str | None
    text: str
    start_index: int | None
    end_index: int | None
    uuid: str
    version: int


@dataclass(frozen=True)
class NewClaim:
    """A claim to store; ``chunk_index`` names the chunk it was extracted from."""

    claim_text: str
    chunk_index: int = 0
    span_start: int | None = None
    span_end: int | None = None
    confidence: float | None = None
    extractor: str = "manual"
    extractor_version: str = "1"


@dataclass(frozen=True)
class Claim:
    id: int
    media_id: int
    chunk_index: int
    claim_text: str
    span_start: int | None
    span_end: int | None
    confidence: float | None
    extractor: str
    extractor_version: str
    chunk_hash: str
    created_at: datetime | None
    uuid: str
    version: int


@dataclass(frozen=True)
class ClaimHit:
    id: int
    media_id: int
    claim_text: str
    rank: float


@dataclass(frozen=True)
class DocumentVersion:
    id: int
    media_id: int
    version_number: int
    content: str
    prompt: str | None
    analysis_content: str | None
    safe_metadata: Any
    created_at: datetime | None
    uuid: str
    version: int


@dataclass(frozen=True)
class Transcript:
    id: int
    media_id: int
    transcription: str | None
    whisper_model: str | None
    created_at: datetime | None
    uuid: str
    version: int
