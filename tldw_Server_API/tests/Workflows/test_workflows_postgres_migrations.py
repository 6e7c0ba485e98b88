"""An older workflows schema (version 1, steps in ``workflow_step_runs``) is upgraded in place.

The PostgreSQL database is stepped back to version 1 with ``downgrade_to``, filled
with rows through raw SQL (as an older server, or the migration tool, would have
written them), and reopened through a new registry: the schema is upgraded, every
row is kept, step rows are in ``workflow_steps``, and the runtime processes the
runs that were waiting in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.manager import downgrade_to
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime
from tldw_Server_API.tests.conftest import settings_for

from .conftest import assert_gap_free

KEY = ("workflows", None)
LEGACY_DEFINITION = {
    "name": "legacy-digest",
    "version": 1,
    "steps": [
        {
            "id": "s1",
            "name": "Greet",
            "type": "prompt",
            "config": {"template": "Hi {{ inputs.q }}"},
            "timeout_seconds": 30,
        },
        {
            "id": "s2",
            "name": "Log",
            "type": "log",
            "config": {"message": "{{ steps.s1.output.text }}"},
        },
    ],
}
QUEUED_RUN = "11111111-1111-4111-8111-111111111111"
ORPHAN_RUN = "22222222-2222-4222-8222-222222222222"
DONE_RUN = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def pg_settings(pg_database: PgTarget, tmp_path: Path) -> Settings:
    return settings_for("postgresql", tmp_path / "Databases", pg_database)


def _reopen(settings: Settings) -> tuple[DatabaseRegistry, str]:
    registry = DatabaseRegistry(settings)
    registry.workflows()
    return registry, registry.states[KEY].outcome


@pytest.fixture
def version_1(pg_settings: Settings) -> Iterator[Settings]:
    """A workflows schema stepped back to version 1, holding rows an older server wrote."""
    registry = DatabaseRegistry(pg_settings)
    database = registry.workflows()
    downgrade_to(database, 1)
    with database.begin() as conn:
        _insert_legacy_rows(conn)
    registry.close()
    yield pg_settings


def _insert_legacy_rows(conn) -> None:
    definition = json.dumps(LEGACY_DEFINITION)
    conn.execute(text("SET LOCAL search_path TO workflows"))
    conn.execute(
        text(
            "INSERT INTO workflows (id, tenant_id, name, version, owner_id, visibility, "
            "definition_json, created_at, updated_at, is_active) VALUES "
            "(1, 'default', 'legacy-digest', 1, '1', 'private', CAST(:d AS jsonb), "
            "'2025-10-08 12:00:00+00', '2025-10-08 12:00:00+00', 1)"
        ),
        {"d": definition},
    )
    conn.execute(text("SELECT setval(pg_get_serial_sequence('workflows', 'id'), 1)"))
    for run_id, status, started in (
        (QUEUED_RUN, "queued", None),
        (ORPHAN_RUN, "running", "2025-10-08 12:01:00+00"),
        (DONE_RUN, "succeeded", "2025-10-08 12:01:00+00"),
    ):
        conn.execute(
            text(
                "INSERT INTO workflow_runs (run_id, tenant_id, workflow_id, status, user_id, "
                "inputs_json, created_at, started_at, definition_version, "
                "definition_snapshot_json, cancel_requested) VALUES "
                "(:r, 'default', 1, :s, '1', CAST(:i AS jsonb), '2025-10-08 12:00:30+00', "
                "CAST(:st AS timestamptz), 1, CAST(:d AS jsonb), 0)"
            ),
            {
                "r": run_id,
                "s": status,
                "i": json.dumps({"q": run_id[:4]}),
                "st": started,
                "d": definition,
            },
        )
        conn.execute(
            text(
                "INSERT INTO workflow_events (tenant_id, run_id, event_seq, event_type, "
                "payload_json, created_at) VALUES ('default', :r, 1, 'run_created', "
                "CAST('{}' AS jsonb), '2025-10-08 12:00:30+00')"
            ),
            {"r": run_id},
        )
    for step_run_id, run_id, step_id, status, output in (
        ("step-done-1", DONE_RUN, "s1", "succeeded", {"text": "Hi 3333"}),
        ("step-done-2", DONE_RUN, "s2", "succeeded", {"message": "Hi 3333"}),
        ("step-orphan-1", ORPHAN_RUN, "s1", "succeeded", {"text": "Hi from the old server"}),
        ("step-orphan-2", ORPHAN_RUN, "s2", "running", None),
    ):
        conn.execute(
            text(
                "INSERT INTO workflow_step_runs (step_run_id, tenant_id, run_id, step_id, name, "
                "type, status, attempt, started_at, outputs_json, locked_by) VALUES "
                "(:id, 'default', :r, :s, :s, 'prompt', :st, 0, '2025-10-08 12:02:00+00', "
                "CAST(:o AS jsonb), :lock)"
            ),
            {
                "id": step_run_id,
                "r": run_id,
                "s": step_id,
                "st": status,
                "o": json.dumps(output) if output else None,
                "lock": "worker-2" if status == "running" else None,
            },
        )
    conn.execute(
        text(
            "INSERT INTO workflow_artifacts (artifact_id, tenant_id, run_id, step_run_id, type, "
            "uri, size_bytes, created_at) VALUES ('art-1', 'default', :r, 'step-done-2', "
            "'report', 'file:///r.md', 12, '2025-10-08 12:03:00+00')"
        ),
        {"r": DONE_RUN},
    )


def test_downgrade_restores_the_version_1_layout(pg_settings: Settings) -> None:
    registry = DatabaseRegistry(pg_settings)
    database = registry.workflows()
    downgrade_to(database, 1)
    with database.begin() as conn:
        tables = set(inspect(conn).get_table_names(schema="workflows"))
        run_columns = {c["name"] for c in inspect(conn).get_columns("workflow_runs", "workflows")}
    registry.close()

    assert "workflow_step_runs" in tables
    assert not {"workflow_steps", "workflow_workers"} & tables
    assert not {"locked_by", "lease_expires_at", "next_attempt_at"} & run_columns


def test_version_1_is_upgraded_without_losing_rows(version_1: Settings) -> None:
    registry, outcome = _reopen(version_1)
    try:
        assert outcome == "upgraded"
        assert registry.states[KEY].from_version == 1
        store = WorkflowStore(registry.workflows())
        with store.database.begin(write=False) as conn:
            tables = set(inspect(conn).get_table_names(schema="workflows"))
        assert "workflow_steps" in tables and "workflow_step_runs" not in tables
        assert store.get_definition(1)["definition"]["steps"][0]["id"] == "s1"
        assert store.count_runs() == 3
        done = store.list_steps(DONE_RUN)
        assert [(s["step_id"], s["status"]) for s in done] == [
            ("s1", "succeeded"),
            ("s2", "succeeded"),
        ]
        assert done[0]["outputs"] == {"text": "Hi 3333"}
        assert [a["artifact_id"] for a in store.list_artifacts(DONE_RUN)] == ["art-1"]
        assert [e["event_type"] for e in store.list_events(QUEUED_RUN)] == ["run_created"]
        queued = store.get_run(QUEUED_RUN)
        assert (queued["attempt"], queued["locked_by"], queued["lease_expires_at"]) == (
            0,
            None,
            None,
        )
    finally:
        registry.close()


def test_reopening_an_upgraded_schema_is_current(version_1: Settings) -> None:
    first, outcome = _reopen(version_1)
    first.close()
    second, again = _reopen(version_1)
    second.close()

    assert (outcome, again) == ("upgraded", "current")


def test_runtime_processes_runs_that_arrived_before_it_started(version_1: Settings) -> None:
    registry, _ = _reopen(version_1)
    store = WorkflowStore(registry.workflows())
    try:
        with WorkflowRuntime(registry, workers=2, poll_seconds=0.05) as runtime:
            queued = runtime.run_and_wait(QUEUED_RUN, timeout=30)
            orphan = runtime.run_and_wait(ORPHAN_RUN, timeout=30)

        assert queued["status"] == "succeeded", queued["error"]
        assert queued["outputs"]["result"] == {"message": "Hi 1111", "level": "info"}
        assert orphan["status"] == "succeeded", orphan["error"]
        # The orphan resumed after its recorded step: s1's old output was reused, not redone.
        steps = store.list_steps(ORPHAN_RUN)
        assert [(s["step_id"], s["status"]) for s in steps] == [
            ("s1", "succeeded"),
            ("s2", "abandoned"),
            ("s2", "succeeded"),
        ]
        assert orphan["outputs"]["result"]["message"] == "Hi from the old server"
        for run_id in (QUEUED_RUN, ORPHAN_RUN):
            assert_gap_free(store, run_id)
        assert store.get_run(DONE_RUN)["status"] == "succeeded"
    finally:
        registry.close()
