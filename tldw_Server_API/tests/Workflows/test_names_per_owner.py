"""Workflow names and versions are per owner (schema version 4), and the users' rows, unique
per tenant as their server kept them, come through the upgrade unchanged."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import delete, inspect

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.base import unique_rules
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.manager import downgrade_to
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.tests.conftest import settings_for

from .conftest import (
    USERS_RUNS,
    USERS_WORKFLOWS,
    closing_registry,
    create_workflow,
    write_users_workflows_db,
)

PER_OWNER = frozenset({"tenant_id", "owner_id", "name", "version"})
PER_TENANT = frozenset({"tenant_id", "name", "version"})
DOCUMENT = {"name": "payroll", "steps": [{"id": "s", "type": "log", "config": {"message": "x"}}]}


def _unique_rules(store: WorkflowStore) -> set[frozenset[str]]:
    with store.database.begin(write=False) as conn:
        rules = unique_rules(conn, "workflows", store.database.namespace)
    return {rule.columns for rule in rules}


def _index_names(store: WorkflowStore) -> set[str]:
    with store.database.begin(write=False) as conn:
        indexes = inspect(conn).get_indexes("workflow_runs", schema=store.database.namespace)
    return {str(index["name"]) for index in indexes}


def test_two_owners_each_have_their_own_versions_of_a_name(store: WorkflowStore) -> None:
    alices = [create_workflow(store, DOCUMENT, owner="alice") for _ in range(2)]
    bobs = create_workflow(store, DOCUMENT, owner="bob")

    assert [store.get_definition(i)["version"] for i in alices] == [1, 2]
    assert store.get_definition(bobs)["version"] == 1
    assert store.get_definition_by_name("payroll", owner_id="alice")["id"] == alices[1]
    assert store.get_definition_by_name("payroll", owner_id="bob")["id"] == bobs


def test_the_latest_version_of_each_owners_name_is_listed(store: WorkflowStore) -> None:
    create_workflow(store, DOCUMENT, owner="alice")
    newest = create_workflow(store, DOCUMENT, owner="alice")
    create_workflow(store, DOCUMENT, owner="bob")

    listed = store.list_definitions(owner_id="alice", latest_only=True)

    assert [(d["id"], d["owner_id"], d["version"]) for d in listed] == [(newest, "alice", 2)]


def test_a_fresh_database_declares_names_per_owner(store: WorkflowStore) -> None:
    assert PER_OWNER in _unique_rules(store)
    assert PER_TENANT not in _unique_rules(store)
    assert "ix_workflow_runs_user_idempotency" in _index_names(store)
    assert "ix_workflow_runs_idempotency" not in _index_names(store)


def test_the_users_rows_are_kept_and_their_names_become_per_owner(
    users_store: WorkflowStore,
) -> None:
    assert _unique_rules(users_store) >= {PER_OWNER}
    assert PER_TENANT not in _unique_rules(users_store)
    for workflow_id, name, description, document in USERS_WORKFLOWS:
        row = users_store.get_definition(workflow_id)
        assert (row["name"], row["version"], row["owner_id"]) == (name, 1, "1")
        assert row["description"] == description
        assert row["definition"]["steps"] == document["steps"]
    assert users_store.count_runs() == len(USERS_RUNS)
    assert {users_store.get_run(r.run_id)["workflow_id"] for r in USERS_RUNS} == {1, 2, 3, 4}

    others = create_workflow(users_store, {"name": "digest", "steps": DOCUMENT["steps"]}, "2")
    owners = create_workflow(users_store, {"name": "digest", "steps": DOCUMENT["steps"]}, "1")

    assert users_store.get_definition(others)["version"] == 1
    assert users_store.get_definition(owners)["version"] == 2
    assert owners > max(w[0] for w in USERS_WORKFLOWS)


# SQLite only: the rebuilt table and its id sequence are SQLite's.
@pytest.mark.parametrize("backend_kind", ["sqlite"], indirect=True)
def test_a_users_sqlite_file_keeps_its_references_and_its_id_sequence(
    tmp_path: Path, users_registry: DatabaseRegistry, backend_kind: str
) -> None:
    database = users_registry.workflows()
    with database.begin(write=False) as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        sequence = conn.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = 'workflows'"
        ).scalar()
    assert sequence == len(USERS_WORKFLOWS)


def test_version_3_is_upgraded_to_names_per_owner_and_back(settings: Settings) -> None:
    with closing_registry(DatabaseRegistry(settings)) as registry:
        store = WorkflowStore(registry.workflows())
        first = create_workflow(store, DOCUMENT, owner="alice")
        downgrade_to(store.database, 3)
        assert PER_TENANT in _unique_rules(store) and PER_OWNER not in _unique_rules(store)
        assert "ix_workflow_runs_idempotency" in _index_names(store)
        deleted = create_workflow(store, DOCUMENT, owner="alice")  # a version 3 server's row
        with store.database.begin() as conn:
            conn.execute(delete(store.workflows).where(store.workflows.c.id == deleted))
    with closing_registry(DatabaseRegistry(settings)) as registry:
        store = WorkflowStore(registry.workflows())
        assert registry.states[("workflows", None)].outcome == "upgraded"
        assert PER_OWNER in _unique_rules(store) and PER_TENANT not in _unique_rules(store)
        assert "ix_workflow_runs_user_idempotency" in _index_names(store)
        assert store.get_definition(first)["owner_id"] == "alice"
        bobs = create_workflow(store, DOCUMENT, owner="bob")
        assert store.get_definition(bobs)["version"] == 1
        assert bobs > deleted > first, "an id is never reused"


def test_a_column_of_the_users_own_survives_the_sqlite_rebuild(tmp_path: Path) -> None:
    settings = settings_for("sqlite", tmp_path / "Databases")
    write_users_workflows_db(settings.workflows_db_path)
    with closing(sqlite3.connect(settings.workflows_db_path)) as conn:
        conn.execute("ALTER TABLE workflows ADD COLUMN my_label TEXT")
        conn.execute("UPDATE workflows SET my_label = 'mine-' || id")
        conn.commit()

    with closing_registry(DatabaseRegistry(settings)) as registry:
        store = WorkflowStore(registry.workflows())
        assert PER_OWNER in _unique_rules(store)

    with closing(sqlite3.connect(settings.workflows_db_path)) as conn:
        labels = conn.execute("SELECT id, my_label FROM workflows ORDER BY id").fetchall()
    assert labels == [(w[0], f"mine-{w[0]}") for w in USERS_WORKFLOWS]
