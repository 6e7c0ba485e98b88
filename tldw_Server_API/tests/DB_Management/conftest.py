"""Fixtures shared by the migration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    """An empty Media database laid out as the users' SQLite files are."""
    path = tmp_path / "Media_DB_v2.db"
    create_legacy_database("media", path)
    return path
