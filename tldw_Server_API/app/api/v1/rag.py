"""Retrieval: ``POST /api/v1/rag/search``, its NDJSON twin ``POST /api/v1/rag/search/stream``
and ``GET /api/v1/rag/simple`` (docs/rag.md).

The request and answer follow tldw_server's: ``query``, ``sources``, ``search_mode``
(``fts``, ``vector`` or ``hybrid``), ``top_k``, ``hybrid_alpha``, ``min_score``,
``fts_level``, ``keyword_filter``, ``include_media_ids``, ``include_note_ids``,
``enable_reranking``, ``enable_generation`` in; ``documents``, ``query``, ``metadata``,
``timings`` (and ``generated_answer``, ``citations``) out. Each user searches their own
databases only. ``GET /api/v1/rag/index`` says how far the background embedding is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ...core.DB_Management.stores.embeddings import EmbeddingStore
from ...core.RAG.embeddings import EmbeddingError
from ...core.RAG.generation import NOT_CONFIGURED, GenerationError, generate
from ...core.RAG.search import RagDocument, RagQuery, Retriever
from ...core.RAG.service import RagService
from ..auth import UserId
from ..deps import MAX_ID, MAX_QUERY_CHARS, Name, Registry, SafeStr, SearchQuery, StrictModel

router = APIRouter(prefix="/api/v1/rag", tags=["rag"])
log = logging.getLogger("tldw_server.api")

MAX_TOP_K = 100
NDJSON = "application/x-ndjson"
SourceName = Literal["media_db", "notes", "chats"]
Query_ = Annotated[SafeStr, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
_MEDIA_ONLY: list[SourceName] = ["media_db"]
NoteId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RagSearchRequest(StrictModel):
    query: Query_
    sources: list[SourceName] = Field(default_factory=lambda: _MEDIA_ONLY[:], min_length=1)
    search_mode: Literal["fts", "vector", "hybrid"] = "hybrid"
    top_k: int = Field(default=10, ge=1, le=MAX_TOP_K)
    hybrid_alpha: float = Field(default=0.7, ge=0.0, le=1.0)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    fts_level: Literal["media", "chunk"] = "media"
    keyword_filter: list[Name] | None = Field(default=None, max_length=100)
    include_media_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=10_000
    )
    include_note_ids: list[NoteId] | None = Field(default=None, max_length=10_000)
    enable_reranking: bool = False
    enable_generation: bool = False


class DocumentOut(BaseModel):
    id: str
    content: str
    source: SourceName
    score: float
    metadata: dict[str, Any]


class Citation(BaseModel):
    number: int
    document_id: str
    source: SourceName


class RagSearchResponse(BaseModel):
    documents: list[DocumentOut]
    query: str
    metadata: dict[str, Any]
    timings: dict[str, float]
    generated_answer: str | None = None
    citations: list[Citation] | None = None


class IndexStatus(BaseModel):
    model: str
    embedded_chunks: int
    pending_items: int
    vector_search: str


def _service(request: Request) -> RagService:
    return request.app.state.rag  # type: ignore[no-any-return]


def _search(
    request: Request, registry: Registry, user_id: str, body: RagSearchRequest
) -> RagSearchResponse:
    response, documents = _retrieve(request, registry, user_id, body)
    if body.enable_generation:
        _generate(_service(request), body.query, documents, response)
    return response


def _retrieve(
    request: Request, registry: Registry, user_id: str, body: RagSearchRequest
) -> tuple[RagSearchResponse, list[RagDocument]]:
    """The answer without generation, and the documents it shows."""
    service = _service(request)
    retriever = Retriever(registry.media(user_id), registry.chacha(user_id), service.provider)
    query = RagQuery(
        query=body.query,
        sources=tuple(dict.fromkeys(body.sources)),
        mode=body.search_mode,
        top_k=body.top_k,
        alpha=body.hybrid_alpha,
        min_score=body.min_score,
        level=body.fts_level,
        keyword_filter=tuple(body.keyword_filter or ()),
        include_media_ids=body.include_media_ids,
        include_note_ids=body.include_note_ids,
    )
    try:
        answer = retriever.search(query)
    except EmbeddingError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the query cannot be embedded: {exc}"
        ) from None
    metadata: dict[str, Any] = {
        "search_mode": body.search_mode,
        "sources": list(query.sources),
        "top_k": body.top_k,
        "total_results": len(answer.documents),
        "fts_level": body.fts_level,
        "embedding_model": service.provider.model_id if body.search_mode != "fts" else None,
        "vector_search": answer.vector_search,
        "fusion": "alpha-weighted normalised scores" if body.search_mode == "hybrid" else None,
        # No reranking model ships with the server: the flag is accepted and said to be unused.
        "reranking": "not available" if body.enable_reranking else None,
    }
    response = RagSearchResponse(
        documents=[_out(d) for d in answer.documents],
        query=body.query,
        metadata=metadata,
        timings=answer.timings,
    )
    return response, answer.documents


def _generate(
    service: RagService, question: str, documents: list[RagDocument], response: RagSearchResponse
) -> None:
    if not (service.settings.chat_api_url and service.settings.chat_model):
        response.metadata["generation"] = NOT_CONFIGURED
        return
    try:
        generated = generate(service.settings, question, documents)
    except GenerationError as exc:
        response.metadata["generation"] = f"failed: {exc}"
        return
    response.generated_answer = generated.answer
    response.citations = [Citation.model_validate(c) for c in generated.citations]
    response.metadata["generation"] = "done"


def _out(document: RagDocument) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


@router.post("/search", response_model=RagSearchResponse, response_model_exclude_none=False)
def rag_search(
    body: RagSearchRequest, request: Request, registry: Registry, user_id: UserId
) -> RagSearchResponse:
    return _search(request, registry, user_id, body)


def _line(event: dict[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _stream(
    service: RagService,
    body: RagSearchRequest,
    response: RagSearchResponse,
    documents: list[RagDocument],
) -> Iterator[bytes]:
    """The answer as NDJSON lines: the query, each document by rank, then the rest."""
    yield _line({"type": "metadata", "query": response.query, "metadata": response.metadata})
    for rank, document in enumerate(response.documents, 1):
        yield _line(
            {"type": "document", "rank": rank, "document": document.model_dump(mode="json")}
        )
    if body.enable_generation:
        # Generation runs after the documents are sent: a client shows them meanwhile.
        _generate(service, body.query, documents, response)
        if response.generated_answer is not None:
            yield _line({"type": "delta", "text": response.generated_answer})
    final: dict[str, Any] = {
        "type": "final",
        "total_results": len(response.documents),
        "timings": response.timings,
    }
    if body.enable_generation:
        final |= {
            "generated_answer": response.generated_answer,
            "citations": [c.model_dump() for c in response.citations or []],
            "generation": response.metadata.get("generation"),
        }
    yield _line(final)


@router.post(
    "/search/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "one JSON object per line"}},
)
def rag_search_stream(
    body: RagSearchRequest, request: Request, registry: Registry, user_id: UserId
) -> StreamingResponse:
    """``/search`` as NDJSON: the query metadata, one line per ranked document, then the
    timings (and the generated answer). Errors before the first line are HTTP errors."""
    response, documents = _retrieve(request, registry, user_id, body)
    lines = _stream(_service(request), body, response, documents)
    return StreamingResponse(lines, media_type=NDJSON)


@router.get("/simple", response_model=RagSearchResponse)
def rag_simple(
    request: Request,
    registry: Registry,
    user_id: UserId,
    query: SearchQuery,
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 10,
) -> RagSearchResponse:
    """Hybrid search over media with the defaults."""
    return _search(request, registry, user_id, RagSearchRequest(query=query, top_k=top_k))


@router.get("/index", response_model=IndexStatus)
def index_status(request: Request, registry: Registry, user_id: UserId) -> IndexStatus:
    """How many of the user's chunks are embedded, and how many items still wait."""
    service = _service(request)
    store = EmbeddingStore(registry.media(user_id))
    pending = service.indexer.work(user_id).items
    return IndexStatus(
        model=service.provider.model_id,
        embedded_chunks=store.count(service.provider.model_id),
        pending_items=pending,
        vector_search=store.support().detail,
    )
