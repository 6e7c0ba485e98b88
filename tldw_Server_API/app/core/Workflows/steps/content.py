"""Steps over the run owner's content: rag_search, media_ingest, create_note.

They reach the user's Media and ChaChaNotes databases through the registry,
leased for the store call (``with registry.user(user_id) as user``: the user is not
closed while the step uses it), and the stores in
``DB_Management/stores``; those modules are imported when a step runs, so the
workflow runtime starts without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from ..templates import TemplateError
from .base import StepConfig, StepContext, StepFailed, StepType

MAX_TEXT_CHARS = 2_000
#: The ``client_id`` content written by workflows carries in the sync log.
CLIENT_ID = "workflows"
#: Files a media_ingest step may read live under ``<data_dir>/workflow_inputs``.
INGEST_DIR_NAME = "workflow_inputs"


def jsonable(value: Any, *, max_text: int = MAX_TEXT_CHARS) -> Any:
    """A JSON-ready copy of a store's result (records, dataclasses, models), long text cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= max_text else value[:max_text] + "…"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "model_dump"):
        value = value.model_dump()
    elif hasattr(value, "_asdict"):
        value = value._asdict()
    elif hasattr(value, "_mapping"):
        value = dict(value._mapping)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, max_text=max_text) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v, max_text=max_text) for v in value]
    return str(value)


def _render(ctx: StepContext, template: str | None) -> str | None:
    if template is None:
        return None
    try:
        return ctx.render(template)
    except TemplateError as exc:
        raise StepFailed(str(exc), retryable=False) from None


@contextmanager
def _store_errors(step: str) -> Iterator[None]:
    """A store's refusal (invalid input, missing row) fails the step without retries."""
    from ...DB_Management.stores.errors import StoreError

    try:
        yield
    except StoreError as exc:
        raise StepFailed(f"{step}: {exc}", retryable=False) from None


# -- rag_search ---------------------------------------------------------------------


class RagSearchConfig(StepConfig):
    query: str = Field(min_length=1)
    limit: int = Field(default=5, ge=1, le=100)


class RagSearchStep(StepType[RagSearchConfig]):
    """Search the run owner's media (full text, the query language users type)."""

    name = "rag_search"
    Config = RagSearchConfig
    templated = ("query",)

    def run(self, ctx: StepContext, config: RagSearchConfig) -> dict[str, Any]:
        from ...DB_Management.stores.media import MediaStore

        query = _render(ctx, config.query) or ""
        with ctx.registry.user(ctx.user_id) as user, _store_errors("rag_search"):
            hits = MediaStore(user.media, client_id=CLIENT_ID).search_media(
                query, limit=config.limit
            )
        results = [jsonable(hit) for hit in hits]
        return {"query": query, "count": len(results), "results": results}


# -- media_ingest ----------------------------------------------------------------------


class MediaIngestConfig(StepConfig):
    title: str = Field(min_length=1)
    #: The content itself (templated) ...
    text: str | None = None
    #: ... or a UTF-8 text file under ``<data_dir>/workflow_inputs`` (relative or absolute).
    path: str | None = None
    media_type: str = "document"
    url: str | None = None
    author: str | None = None
    keywords: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> MediaIngestConfig:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of 'text' or 'path'")
        return self


class MediaIngestStep(StepType[MediaIngestConfig]):
    """Add text, or a local text file, to the run owner's media (and record an artifact)."""

    name = "media_ingest"
    Config = MediaIngestConfig
    templated = ("title", "text", "path", "url")

    def _read(self, ctx: StepContext, raw: str) -> str:
        root = (ctx.registry.settings.data_dir / INGEST_DIR_NAME).resolve()
        candidate = Path(raw)
        path = (candidate if candidate.is_absolute() else root / candidate).resolve()
        if not path.is_relative_to(root):
            raise StepFailed(
                f"media_ingest: {raw!r} is outside {root} (the directory workflows may read)",
                retryable=False,
            )
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StepFailed(f"media_ingest: no file {path}", retryable=False) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StepFailed(f"media_ingest: cannot read {path}: {exc}", retryable=False) from None

    def run(self, ctx: StepContext, config: MediaIngestConfig) -> dict[str, Any]:
        from ...DB_Management.stores.media import MediaStore

        title = _render(ctx, config.title) or ""
        if config.path is not None:
            source = _render(ctx, config.path) or ""
            content = self._read(ctx, source)
        else:
            source = "text"
            content = _render(ctx, config.text) or ""
        with ctx.registry.user(ctx.user_id) as user, _store_errors("media_ingest"):
            added = MediaStore(user.media, client_id=CLIENT_ID).add_media(
                title=title,
                content=content,
                type=config.media_type,
                url=_render(ctx, config.url),
                author=config.author,
                keywords=list(config.keywords),
            )
        media_id = added.id
        artifact = ctx.add_text_artifact(
            content,
            type="media",
            uri=f"media://{ctx.user_id}/{media_id}",
            metadata={"media_id": media_id, "title": title, "source": source},
        )
        return {
            "media_id": media_id,
            "title": title,
            "chars": len(content),
            "artifact_id": artifact["artifact_id"],
        }


# -- create_note -------------------------------------------------------------------------


class CreateNoteConfig(StepConfig):
    title: str = Field(min_length=1)
    content: str
    keywords: list[str] = Field(default_factory=list)


class CreateNoteStep(StepType[CreateNoteConfig]):
    """Write a note (title and content templated) into the run owner's notes."""

    name = "create_note"
    Config = CreateNoteConfig
    templated = ("title", "content")

    def run(self, ctx: StepContext, config: CreateNoteConfig) -> dict[str, Any]:
        from ...DB_Management.stores.notes import NotesStore

        title = _render(ctx, config.title) or ""
        content = _render(ctx, config.content) or ""
        with ctx.registry.user(ctx.user_id) as user, _store_errors("create_note"):
            note = NotesStore(user.chacha, client_id=CLIENT_ID).add_note(
                title, content, list(config.keywords)
            )
        return {"note_id": note.id, "title": note.title, "keywords": list(note.keywords)}
