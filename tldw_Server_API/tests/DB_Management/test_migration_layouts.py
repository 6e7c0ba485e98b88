"""Every version of our users' files migrates whole: each table verified, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.options import SourceFile
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.DB_Management.conftest import assert_ok, fetch, run

SIZES = {"media": 10, "chacha": 6, "analytics": 30, "workflows": 12}


def _migrated_tables(target: PgTarget, source: SourceFile) -> dict[str, tuple[int, int, bool]]:
    result = run(target, source)
    assert_ok(result)
    return {
        t.source: (t.source_rows, t.target_rows, t.verified) for t in result.databases[0].tables
    }


@pytest.mark.parametrize("layout", ["early", "late-2025", "current"])
def test_every_table_of_a_media_file_arrives_verified(
    tmp_path: Path, pg_database: PgTarget, layout: str
) -> None:
    path = tmp_path / "Media_DB_v2.db"
    counts = generate("media", path, size=SIZES["media"], layout=layout)
    tables = _migrated_tables(pg_database, SourceFile("media", path, "1"))
    assert tables == {name: (n, n, True) for name, n in counts.items()}


@pytest.mark.parametrize("layout", ["early", "late-2025", "current"])
def test_every_table_of_a_chacha_file_arrives_verified(
    tmp_path: Path, pg_database: PgTarget, layout: str
) -> None:
    path = tmp_path / "ChaChaNotes.db"
    counts = generate("chacha", path, size=SIZES["chacha"], layout=layout)
    tables = _migrated_tables(pg_database, SourceFile("chacha", path, "1"))
    assert tables == {name: (n, n, True) for name, n in counts.items()}


@pytest.mark.parametrize("steps_table", ["workflow_step_runs", "workflow_steps"])
def test_workflow_steps_arrive_whatever_the_file_calls_their_table(
    tmp_path: Path, pg_database: PgTarget, steps_table: str
) -> None:
    path = tmp_path / "workflows.db"
    counts = generate("workflows", path, size=SIZES["workflows"], steps_table=steps_table)
    tables = _migrated_tables(pg_database, SourceFile("workflows", path))
    assert tables[steps_table] == (counts[steps_table], counts[steps_table], True)
    assert fetch(pg_database, "SELECT count(*) FROM workflows.workflow_steps") == [
        (counts[steps_table],)
    ]


def test_every_table_of_the_analytics_file_arrives_verified(
    tmp_path: Path, pg_database: PgTarget
) -> None:
    path = tmp_path / "Analytics.db"
    counts = generate("analytics", path, size=SIZES["analytics"])
    tables = _migrated_tables(pg_database, SourceFile("analytics", path))
    assert tables == {name: (n, n, True) for name, n in counts.items()}
    assert all(n > 0 for n in counts.values()), counts
