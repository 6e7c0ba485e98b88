"""The prompt and analysis recorded with a document version.

An edit that gives an item new content makes a new document version
(:meth:`MediaStore.update_media`); a client may send the prompt it used and the
analysis it got with that content, and they belong to that version.
"""

from __future__ import annotations

from ._common import update_versioned
from .media import DocumentVersion, MediaStore


def annotate_version(
    store: MediaStore,
    media_id: int,
    version_number: int,
    *,
    prompt: str | None,
    analysis: str | None,
) -> DocumentVersion:
    """Record *prompt* and *analysis* on version *version_number* of the item."""
    made = store.versions.get(media_id, version_number)
    with store.database.begin(write=True) as conn:
        update_versioned(
            conn,
            store.t.versions,
            made.id,
            {"prompt": prompt, "analysis_content": analysis},
            client_id=store.client_id,
        )
    return store.versions.get(media_id, version_number)


__all__ = ["annotate_version"]
