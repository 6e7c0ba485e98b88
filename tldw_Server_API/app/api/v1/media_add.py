"""``POST /api/v1/media/add``: tldw_server's ingest form, for the files this server reads.

The request is tldw_server's multipart form: ``media_type``, ``files`` (repeated),
``urls`` (repeated), and optionally ``title``, ``author`` and ``keywords``
(comma-separated). Its other processing options (chunking, analysis, models...)
are accepted and have no effect: this server stores text as given.

Each source gets one entry in ``results`` (``status``, ``input_ref``,
``db_id``...). Text, Markdown, HTML and PDF files are added; other files, and URLs
(this server does not download), get an ``Error`` entry saying why. The answer
is 200 when every source was added and 207 when any was not; 400 when the form
names no source at all; 415 when the body is not a form (a JSON body included).
"""

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ...core.DB_Management.stores import MediaStore, StoreError
from ...core.text_files import UnreadableFile, read_text_file
from ..deps import Media
from .media_models import MediaType

router = APIRouter()

NO_SOURCES = (
    "No valid media sources supplied. At least one 'url' in the 'urls' list or one 'file' "
    "in the 'files' list must be provided."
)
URL_REFUSED = (
    "adding media from a URL is not supported by this server: download it and upload the "
    "file in 'files' instead"
)


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
NOT_A_FORM = (
    "POST /api/v1/media/add takes a multipart/form-data form (media_type, files, urls...), "
    "not {kind}"
)


async def a_form(request: Request) -> None:
    """Refuse any body but a form with 415, before its fields are checked.

    A JSON body would otherwise be read as an empty form, and its sender told that
    ``media_type`` is missing although the JSON holds it.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FORM_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            NOT_A_FORM.format(kind=kind or "a body without a Content-Type"),
        )


class AddResult(BaseModel):
    """One source of the form and what became of it (tldw_server's per-item result)."""

    status: str = Field(description="Success or Error")
    input_ref: str = Field(description="the file name or URL as sent")
    processing_source: str
    media_type: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    content: str | None = None
    segments: list[dict[str, Any]] | None = None
    chunks: list[dict[str, Any]] | None = None
    analysis: str | None = None
    analysis_details: dict[str, Any] | None = None
    keywords: list[str] = Field(default_factory=list)
    warnings: list[str] | None = None
    error: str | None = None
    db_id: int | None = None
    db_message: str | None = None
    media_uuid: str | None = None


class AddResults(BaseModel):
    results: list[AddResult]


@router.post(
    "/media/add",
    response_model=AddResults,
    tags=["media"],
    responses={
        status.HTTP_207_MULTI_STATUS: {
            "model": AddResults,
            "description": "some sources were not added (see each result's error)",
        },
        status.HTTP_400_BAD_REQUEST: {"description": "the form names no file and no URL"},
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: {"description": "the body is not a form"},
    },
)
def add_media(
    store: Media,  # first: the caller's key is checked before the body
    _form: Annotated[None, Depends(a_form)],
    media_type: Annotated[MediaType, Form(description="what kind of media, e.g. document")],
    files: Annotated[list[UploadFile] | None, File(description="text, Markdown or HTML")] = None,
    urls: Annotated[list[str] | None, Form(description="refused: not downloaded")] = None,
    title: Annotated[str | None, Form(max_length=1000)] = None,
    author: Annotated[str | None, Form(max_length=1000)] = None,
    keywords: Annotated[str, Form(max_length=100_000, description="comma-separated")] = "",
) -> JSONResponse:
    """Add each uploaded file as a media item; report every source."""
    sources = [u.strip() for u in urls or [] if u.strip()]
    uploads = [f for f in files or [] if f.filename]
    if not sources and not uploads:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, NO_SOURCES)
    words = [w.strip() for w in keywords.split(",") if w.strip()]
    only_one = len(sources) + len(uploads) == 1
    results = [_refused(url, media_type, URL_REFUSED) for url in sources]
    for upload in uploads:
        name = upload.filename or "upload"
        results.append(
            add_file(
                store,
                name,
                upload.file.read(),
                media_type=media_type,
                title=(title or "").strip() if only_one else "",
                author=(author or "").strip() or None,
                keywords=words,
            )
        )
    code = 200 if all(r.status == "Success" for r in results) else status.HTTP_207_MULTI_STATUS
    return JSONResponse(AddResults(results=results).model_dump(mode="json"), status_code=code)


def add_file(
    store: MediaStore,
    name: str,
    data: bytes,
    *,
    media_type: str,
    title: str,
    author: str | None,
    keywords: list[str],
) -> AddResult:
    try:
        read = read_text_file(name, data)
        item_title = title or read.title or PurePath(name).stem or name
        item = store.add_media(item_title, read.text, media_type, author, None, keywords)
    except (UnreadableFile, StoreError) as exc:
        return _refused(name, media_type, str(exc))
    return AddResult(
        status="Success",
        input_ref=name,
        processing_source=name,
        media_type=media_type,
        metadata={"title": item.title, "author": item.author},
        content=item.content,
        keywords=item.keywords,
        db_id=item.id,
        db_message="Media added to the database.",
        media_uuid=item.uuid,
    )


def _refused(ref: str, media_type: str, why: str) -> AddResult:
    return AddResult(
        status="Error",
        input_ref=ref,
        processing_source=ref,
        media_type=media_type,
        error=why,
        db_message="Not added.",
    )


__all__ = ["add_file", "router"]
