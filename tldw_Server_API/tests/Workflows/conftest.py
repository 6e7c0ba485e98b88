"""Fixtures of the workflow tests: a store, a started runtime, and a users' ``workflows.db``
opened as it is (SQLite) or migrated to PostgreSQL. (Local HTTP servers: ``http_server`` of
tests/conftest.py.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header
from fastapi.testclient import TestClient

from tldw_Server_API.app.api.auth import get_user_id
from tldw_Server_API.app.api.deps import get_registry
from tldw_Server_API.app.api.errors import install_error_handlers
from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database
from tldw_Server_API.app.core.DB_Management.migration.run import (
    MigrationOptions,
    SourceFile,
    migrate,
)
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.api import router as workflows_router
from tldw_Server_API.app.core.Workflows.definitions import parse_definition
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.postgres_harness import fresh_database


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The parametrised backend's settings, admitting the local test servers (:func:`http_server`)
    through the outbound policy: these tests are about the engine, not the policy."""
    return settings.model_copy(update={"outbound_allow": ("127.0.0.1",)})


@pytest.fixture
def store(registry: DatabaseRegistry) -> WorkflowStore:
    return WorkflowStore(registry.workflows())


@pytest.fixture
def runtime(registry: DatabaseRegistry) -> Iterator[WorkflowRuntime]:
    """Two worker threads that poll and heartbeat often (the tests' runs are short)."""
    runtime = WorkflowRuntime(registry, workers=2, poll_seconds=0.05, heartbeat_seconds=0.5)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def create_workflow(store: WorkflowStore, document: dict[str, Any], owner: str = "1") -> int:
    """Validate *document* and store it; return the definition's id."""
    definition = parse_definition(document)
    return int(
        store.create_definition(definition.name, definition.to_document(), owner_id=owner)["id"]
    )


def event_types(store: WorkflowStore, run_id: str) -> list[str]:
    return [e["event_type"] for e in store.list_events(run_id)]


def assert_gap_free(store: WorkflowStore, run_id: str) -> None:
    seqs = [e["event_seq"] for e in store.list_events(run_id)]
    assert seqs == list(range(1, len(seqs) + 1))


# ---------------------------------------------------------------------------------------------
# A users' workflows.db: the version 1 layout (content-schema.md), rows as their servers wrote
# them. Definitions name no workflow (the row does) and snapshots lack ``name``; one run uses a
# step type this server does not have; runs wait for approval or a human, or are paused,
# without the waiting step rows this server writes; runs were left ``running`` by a server that
# stopped (no lease columns at all in that layout).
# ---------------------------------------------------------------------------------------------

DIGEST_STEPS = [
    {
        "id": "greet",
        "name": "Greet",
        "type": "prompt",
        "config": {"template": "{{ inputs.greeting }} {{ inputs.name }}"},
        "timeout_seconds": 30,
    },
    {
        "id": "say",
        "name": "Say",
        "type": "log",
        "config": {"message": "{{ steps.greet.output.text }}"},
    },
]
SPEAK_STEPS = [
    {"id": "intro", "type": "prompt", "config": {"template": "Hi"}},
    {"id": "read_aloud", "type": "tts", "config": {"voice": "af_bella"}},
]
PUBLISH_STEPS = [
    {"id": "draft", "type": "prompt", "config": {"template": "Draft for {{ inputs.name }}"}},
    {
        "id": "approve",
        "type": "wait_for_approval",
        "config": {"prompt": "Publish {{ steps.draft.output.text }}?"},
        "on_failure": "archive",
    },
    {
        "id": "post",
        "type": "log",
        "config": {"message": "{{ steps.draft.output.text }} ({{ steps.approve.output.comment }})"},
        "on_success": "end",
    },
    {"id": "archive", "type": "log", "config": {"message": "archived: {{ steps.approve.error }}"}},
]
REVIEW_STEPS = [
    {"id": "check", "type": "wait_for_human", "config": {"prompt": "Looks right?"}},
    {"id": "done", "type": "log", "config": {"message": "checked"}},
]

#: (id, name, description, document) of the users' workflow rows.
USERS_WORKFLOWS = (
    (1, "digest", "Morning digest", {"inputs": {"greeting": "Hello"}, "steps": DIGEST_STEPS}),
    (2, "speak", None, {"steps": SPEAK_STEPS}),
    (3, "publish", None, {"steps": PUBLISH_STEPS}),
    (4, "review", None, {"steps": REVIEW_STEPS}),
)

STAMP = "2025-10-08T12:{:02d}:00.000Z"


@dataclass(frozen=True)
class UsersRun:
    """One run in the users' file, and its step rows: (step_id, type, status, outputs, lock)."""

    run_id: str
    workflow_id: int
    status: str
    minute: int  # created at 12:<minute>; the queue is served oldest first
    inputs: dict[str, Any]
    steps: tuple[tuple[str, str, str, Any, str | None], ...] = ()
    status_reason: str | None = None


UNAVAILABLE = UsersRun("0a000000-0000-4000-8000-000000000001", 2, "queued", 0, {})
QUEUED = UsersRun("0b000000-0000-4000-8000-000000000002", 1, "queued", 1, {"name": "Ann"})
RUNNING = UsersRun(
    "0c000000-0000-4000-8000-000000000003",
    1,
    "running",
    2,
    {"name": "Bo"},
    steps=(
        ("greet", "prompt", "succeeded", {"text": "Hello from the old server"}, None),
        ("say", "log", "running", None, "old-worker-2"),
    ),
)
RUNNING_BARE = UsersRun("0d000000-0000-4000-8000-000000000004", 1, "running", 3, {"name": "Cy"})
APPROVAL = UsersRun(
    "0e000000-0000-4000-8000-000000000005",
    3,
    "waiting_approval",
    4,
    {"name": "Di"},
    steps=(("draft", "prompt", "succeeded", {"text": "Draft for Di"}, None),),
    status_reason="awaiting reviewer",
)
APPROVAL_TO_REJECT = UsersRun(
    "0f000000-0000-4000-8000-000000000006",
    3,
    "waiting_approval",
    5,
    {"name": "Ed"},
    steps=(("draft", "prompt", "succeeded", {"text": "Draft for Ed"}, None),),
    status_reason="awaiting reviewer",
)
HUMAN = UsersRun(
    "10000000-0000-4000-8000-000000000007",
    4,
    "waiting_human",
    6,
    {},
    steps=(("check", "wait_for_human", "waiting_human", None, None),),
    status_reason="awaiting input",
)
PAUSED = UsersRun(
    "11000000-0000-4000-8000-000000000008",
    1,
    "paused",
    7,
    {"name": "Fay"},
    steps=(("greet", "prompt", "succeeded", {"text": "Hello Fay, before the pause"}, None),),
    status_reason="paused by user",
)
USERS_RUNS = (
    UNAVAILABLE,
    QUEUED,
    RUNNING,
    RUNNING_BARE,
    APPROVAL,
    APPROVAL_TO_REJECT,
    HUMAN,
    PAUSED,
)


def write_users_workflows_db(path: Path) -> None:
    """Create *path* in the users' layout and fill it with :data:`USERS_WORKFLOWS` and
    :data:`USERS_RUNS`, each run with a ``run_created`` event (plus ``run_started`` when
    it had started)."""
    create_legacy_database("workflows", path)
    with closing(sqlite3.connect(path)) as conn:
        for workflow_id, name, description, document in USERS_WORKFLOWS:
            _insert(
                conn,
                "workflows",
                id=workflow_id,
                tenant_id="default",
                name=name,
                version=1,
                owner_id="1",
                description=description,
                definition_json=json.dumps(document),
                created_at=STAMP.format(0),
                updated_at=STAMP.format(0),
            )
        documents = {w[0]: w[3] for w in USERS_WORKFLOWS}
        for run in USERS_RUNS:
            _insert_users_run(conn, run, documents[run.workflow_id])
        conn.commit()


def _insert_users_run(conn: sqlite3.Connection, run: UsersRun, document: dict[str, Any]) -> None:
    started = None if run.status == "queued" else STAMP.format(run.minute)
    _insert(
        conn,
        "workflow_runs",
        run_id=run.run_id,
        tenant_id="default",
        workflow_id=run.workflow_id,
        status=run.status,
        status_reason=run.status_reason,
        user_id="1",
        inputs_json=json.dumps(run.inputs),
        created_at=STAMP.format(run.minute),
        started_at=started,
        definition_version=1,
        # What users' servers kept: the steps and the version, no name, no input defaults.
        definition_snapshot_json=json.dumps({"version": 1, "steps": document["steps"]}),
    )
    events = ["run_created"] + (["run_started"] if started else [])
    for index, (step_id, step_type, status, outputs, lock) in enumerate(run.steps):
        step_run_id = f"{run.run_id[:8]}-step-{index}"
        _insert(
            conn,
            "workflow_step_runs",
            step_run_id=step_run_id,
            tenant_id="default",
            run_id=run.run_id,
            step_id=step_id,
            name=step_id,
            type=step_type,
            status=status,
            started_at=STAMP.format(run.minute),
            outputs_json=json.dumps(outputs) if outputs is not None else None,
            locked_by=lock,
            lock_expires_at=STAMP.format(run.minute + 5) if lock else None,
        )
        events.append("step_started")
    for seq, event_type in enumerate(events, start=1):
        _insert(
            conn,
            "workflow_events",
            tenant_id="default",
            run_id=run.run_id,
            event_seq=seq,
            event_type=event_type,
            payload_json="{}",
            created_at=STAMP.format(run.minute),
        )


def _insert(conn: sqlite3.Connection, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))


@pytest.fixture
def users_registry(
    backend_kind: str, tmp_path: Path, pg_server: PgTarget
) -> Iterator[DatabaseRegistry]:
    """The users' workflows.db, opened with our stores as it is (SQLite: upgraded in place),
    or migrated with the migration library to a fresh PostgreSQL database and opened there."""
    data_dir = tmp_path / "Databases"
    if backend_kind == "sqlite":
        settings = settings_for("sqlite", data_dir)
        write_users_workflows_db(settings.workflows_db_path)
        with closing_registry(DatabaseRegistry(settings)) as registry:
            yield registry
        return
    source = tmp_path / "users" / "workflows.db"
    write_users_workflows_db(source)
    with fresh_database(pg_server) as target:
        result = migrate(
            MigrationOptions(
                sources=[SourceFile("workflows", source)], target=target, create_schema=True
            )
        )
        assert result.exit_code == 0, [(d.label, d.error, d.problems[:3]) for d in result.databases]
        with closing_registry(DatabaseRegistry(settings_for("postgresql", data_dir, target))) as r:
            yield r


@contextmanager
def closing_registry(registry: DatabaseRegistry) -> Iterator[DatabaseRegistry]:
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def users_store(users_registry: DatabaseRegistry) -> WorkflowStore:
    return WorkflowStore(users_registry.workflows())


def api_client(registry: DatabaseRegistry) -> TestClient:
    """The workflows routes over *registry*; the ``X-User`` header says who calls (default 1)."""

    def user_id(x_user: str = Header(default="1")) -> str:
        return x_user

    app = FastAPI()
    install_error_handlers(app)  # error bodies as the server sends them
    app.include_router(workflows_router)
    app.dependency_overrides[get_registry] = lambda: registry
    app.dependency_overrides[get_user_id] = user_id
    return TestClient(app)
