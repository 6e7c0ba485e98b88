"""Our five databases, each declared once for SQLite and PostgreSQL."""

from __future__ import annotations

from . import analytics, chacha, media, users, workflows
from .spec import DatabaseSchema

SCHEMAS: dict[str, DatabaseSchema] = {
    schema.name: schema
    for schema in (media.SCHEMA, chacha.SCHEMA, analytics.SCHEMA, workflows.SCHEMA, users.SCHEMA)
}

__all__ = ["SCHEMAS", "DatabaseSchema"]
