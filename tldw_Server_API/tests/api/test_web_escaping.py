"""What the WebUI shows from a database is text: markup in it is escaped, never run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.instants import utc_now
from tldw_Server_API.app.core.DB_Management.migration.history import summary_values
from tldw_Server_API.app.core.DB_Management.schemas.migrations import (
    NAMESPACE,
    metadata,
    migration_runs,
)
from tldw_Server_API.app.main import create_app
from tldw_Server_API.tests.api.conftest import with_key
from tldw_Server_API.tests.api.test_web_session import signed_in
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.postgres_harness import fresh_database

MARKUP = "<script>alert(1)</script>"


def hostile_report() -> dict:
    table = {
        "source": MARKUP,
        "target": f"user_1_media.{MARKUP}",
        "source_rows": 1,
        "target_rows": 1,
        "verified": True,
        "carried": True,
        "carried_columns": [],
        "policy_changes": {MARKUP: 1},
        "seconds": 0.5,
    }
    database = {
        "database": MARKUP,
        "source_file": f"/data/{MARKUP}.db",
        "schema": "user_1_media",
        "status": "migrated",
        "error": None,
        "seconds": 0.5,
        "tables": [table],
    }
    return {"target": MARKUP, "exit_code": 0, "reason": MARKUP, "databases": [database]}


@pytest.fixture
def recorded(pg_server: PgTarget, tmp_path: Path) -> Iterator[TestClient]:
    """A signed-in client of a server whose database holds a report full of markup."""
    with fresh_database(pg_server) as target:
        engine = create_engine(target.sqlalchemy_url(), poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(CreateSchema(NAMESPACE))
            conn = conn.execution_options(schema_translate_map={None: NAMESPACE})
            metadata.create_all(conn)
            report = hostile_report()
            conn.execute(
                insert(migration_runs).values(
                    recorded_at=utc_now(), tool_version=MARKUP, report=report,
                    **summary_values(report),
                )
            )  # fmt: skip
        engine.dispose()
        settings = settings_for("postgresql", tmp_path / "Databases", target)
        with TestClient(create_app(with_key(settings))) as client:
            signed_in(client)
            yield client


@pytest.mark.parametrize("page", ["/migrations", "/migrations/1"])
def test_markup_in_a_report_shows_as_text(recorded: TestClient, page: str) -> None:
    html = recorded.get(page).text
    assert MARKUP not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
