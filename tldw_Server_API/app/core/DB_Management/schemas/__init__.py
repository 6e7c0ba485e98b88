"""Our four databases, each declared once for SQLite and PostgreSQL."""

from __future__ import annotations

from . import analytics, chacha, media, workflows
from .spec import DatabaseSchema

SCHEMAS: dict[str, DatabaseSchema] = {
    schema.name: schema
    for schema in (media.SCHEMA, chacha.SCHEMA, analytics.SCHEMA, workflows.SCHEMA)
}

__all__ = ["SCHEMAS", "DatabaseSchema"]
