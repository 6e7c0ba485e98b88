"""Partial updates: what the body of a ``PUT`` or ``PATCH`` changes, and the two refusals.

Every field of an update body is optional; the fields the client sends are the change.

=========================================  ======  ===============================================
what                                       status  body
=========================================  ======  ===============================================
``null`` for a field declared ``NotNull``  422     ``{"detail": "title cannot be null"}``
no field at all (:func:`changed_fields`)   400     ``{"detail": "No valid fields provided for
                                                   update."}``
=========================================  ======  ===============================================

A field that may be left out but never cleared is declared ``field: T | NotNull = None``:
the schema shows no ``null`` for it, and :func:`null_field` finds it sent as ``null``
(pydantic takes the ``None`` the default needs, so the refusal is the route's).
"""

from __future__ import annotations

from typing import Any, get_args

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

NotNull = SkipJsonSchema[None]
"""``field: T | NotNull = None``: may be left out, but ``null`` is no value for it (the
schema says so; the route refuses an explicit ``null`` with a 422 naming the field)."""

NO_FIELDS = "No valid fields provided for update."


class UpdateBody(BaseModel):
    """A base of update bodies: the schema says they name one field at least."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})


def null_field(body: BaseModel) -> str | None:
    """The first field (in declaration order) declared ``NotNull`` that *body* sets to ``null``."""
    return next(
        (
            name
            for name, field in type(body).model_fields.items()
            if name in body.model_fields_set
            and getattr(body, name) is None
            and NotNull in get_args(field.annotation)
        ),
        None,
    )


def changed_fields(body: BaseModel) -> dict[str, Any]:
    """The fields *body* sets, or an ``HTTPException``: 422 for a ``null`` where a value is
    needed (see :func:`null_field`), 400 when it sets none."""
    refused = null_field(body)
    if refused is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{refused} cannot be null")
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, NO_FIELDS)
    return changes
