"""workflows.db, its step table named by the caller.

Older files call it ``workflow_step_runs``, newer ones ``workflow_steps`` (same columns)."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# workflows.db
# --------------------------------------------------------------------------------------------

WORKFLOWS_TEMPLATE = """
CREATE TABLE workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    owner_id TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'private',
    description TEXT,
    tags TEXT,
    definition_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, name, version)
);
CREATE TABLE workflow_runs (
    run_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    workflow_id INTEGER REFERENCES workflows(id),
    status TEXT NOT NULL,
    status_reason TEXT,
    user_id TEXT NOT NULL,
    inputs_json TEXT NOT NULL,
    outputs_json TEXT,
    error TEXT,
    duration_ms INTEGER,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    definition_version INTEGER,
    definition_snapshot_json TEXT,
    idempotency_key TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE {steps_table} (
    step_run_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    name TEXT,
    type TEXT,
    status TEXT,
    attempt INTEGER DEFAULT 0,
    started_at TEXT,
    ended_at TEXT,
    inputs_json TEXT,
    outputs_json TEXT,
    error TEXT,
    locked_by TEXT,
    locked_at TEXT,
    lock_expires_at TEXT,
    heartbeat_at TEXT
);
CREATE TABLE workflow_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_run_id TEXT,
    event_seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload_json TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, event_seq)
);
CREATE TABLE workflow_artifacts (
    artifact_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_run_id TEXT,
    type TEXT,
    uri TEXT,
    size_bytes INTEGER,
    mime_type TEXT,
    checksum_sha256 TEXT,
    metadata_json TEXT,
    created_at TEXT NOT NULL
);
"""
