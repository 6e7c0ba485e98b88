"""A users' ``workflows.db`` (the version 1 SQLite layout) is upgraded and its queue processed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime
from tldw_Server_API.tests.conftest import settings_for

from .conftest import assert_gap_free

DEFINITION = {
    "name": "digest",
    "version": 1,
    "steps": [
        {
            "id": "s1",
            "name": "Greet",
            "type": "prompt",
            "config": {"template": "Digest for {{ inputs.query }}"},
        }
    ],
}
LEGACY_TYPES = {"name": "old", "version": 1, "steps": [{"id": "s1", "type": "tts", "config": {}}]}


def _users_file(path: Path) -> None:
    create_legacy_database("workflows", path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO workflows (id, tenant_id, name, version, owner_id, definition_json, "
            "created_at, updated_at) VALUES (1, 'default', 'digest', 1, '1', ?, "
            "'2025-10-08 12:00:00', '2025-10-08T12:00:00.000Z')",
            (json.dumps(DEFINITION),),
        )
        for run_id, created, snapshot in (
            ("run-epoch", 1759924800, DEFINITION),  # an epoch integer another tool wrote
            ("run-text", "2025-10-08 12:01:00", DEFINITION),
            ("run-tts", "2025-10-08T12:02:00.000Z", LEGACY_TYPES),
        ):
            conn.execute(
                "INSERT INTO workflow_runs (run_id, tenant_id, workflow_id, status, user_id, "
                "inputs_json, created_at, definition_version, definition_snapshot_json) "
                "VALUES (?, 'default', 1, 'queued', '1', ?, ?, 1, ?)",
                (run_id, json.dumps({"query": run_id}), created, json.dumps(snapshot)),
            )
            conn.execute(
                "INSERT INTO workflow_events (tenant_id, run_id, event_seq, event_type, "
                "payload_json, created_at) VALUES ('default', ?, 1, 'run_created', '{}', ?)",
                (run_id, created),
            )


def test_users_sqlite_file_is_upgraded_and_its_queue_processed(tmp_path: Path) -> None:
    settings = settings_for("sqlite", tmp_path / "Databases")
    _users_file(settings.workflows_db_path)
    registry = DatabaseRegistry(settings)
    try:
        store = WorkflowStore(registry.workflows())
        assert registry.states[("workflows", None)].outcome == "upgraded"

        with WorkflowRuntime(registry, workers=1, poll_seconds=0.05) as runtime:
            runs = {
                r: runtime.run_and_wait(r, timeout=30) for r in ("run-epoch", "run-text", "run-tts")
            }

        assert runs["run-epoch"]["status"] == "succeeded", runs["run-epoch"]["error"]
        assert runs["run-epoch"]["outputs"]["result"] == {"text": "Digest for run-epoch"}
        assert runs["run-text"]["status"] == "succeeded", runs["run-text"]["error"]
        assert runs["run-tts"]["status"] == "failed"
        assert runs["run-tts"]["error"] == (
            "step 's1' uses step type 'tts', which this server does not have"
        )
        for run_id in runs:
            assert_gap_free(store, run_id)
            assert store.list_events(run_id)[0]["event_type"] == "run_created"
    finally:
        registry.close()
