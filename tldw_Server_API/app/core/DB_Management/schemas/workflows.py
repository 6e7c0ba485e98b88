"""The Workflows database (one per server): definitions, runs, steps, events, artifacts.

Version 1 is our users' ``workflows.db`` (steps in ``workflow_step_runs``).
Version 2 names the step table ``workflow_steps`` (the name the guide counts),
adds the claim/lease columns the runtime needs on runs, and the table of live
workers whose heartbeats ``/api/v1/workflows/status`` reports.
Version 4 makes names and versions per owner: ``UNIQUE(tenant_id, owner_id, name,
version)`` instead of ``UNIQUE(tenant_id, name, version)`` (our users' rows, unique
per tenant, are unique per owner too), and looks idempotency keys up per user.
Version 5 numbers runs in submission order (``queue_seq``, an identity column that
claims follow; existing runs are numbered by ``created_at``) and gives each worker a
lease (``workflow_workers.lease_expires_at``): a run's claim lives as long as its
worker heartbeats, one write per worker rather than one per run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Identity,
    Index,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)

from .spec import DatabaseSchema, Upgrade, version_table
from .types import AUTOINCREMENT, Instant, Int, Json, Key, Uuid
from .upgrades import (
    UpgradeContext,
    create_indexes,
    drop_indexes,
    foreign_key_index_upgrade,
    layout_upgrade,
)

metadata = MetaData()

workflows = Table(
    "workflows",
    metadata,
    Column("id", Key, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Int, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("visibility", Text, nullable=False, server_default="private"),
    Column("description", Text),
    Column("tags", Text),
    Column("definition_json", Json, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    Column("is_active", Int, nullable=False, server_default="1"),
    UniqueConstraint(
        "tenant_id", "owner_id", "name", "version", name="uq_workflows_owner_name_version"
    ),
    **AUTOINCREMENT,
)

RUN_RUNTIME_COLUMNS = (
    ("attempt", Int, "0"),
    ("locked_by", Text, None),
    ("locked_at", Instant, None),
    ("lease_expires_at", Instant, None),
    ("heartbeat_at", Instant, None),
    ("next_attempt_at", Instant, None),
)


def _runtime_columns() -> list[Column]:
    return [
        Column(name, type_, nullable=default is None, server_default=default)
        for name, type_, default in RUN_RUNTIME_COLUMNS
    ]


workflow_runs = Table(
    "workflow_runs",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("workflow_id", Key, ForeignKey("workflows.id")),
    Column("status", Text, nullable=False),
    Column("status_reason", Text),
    Column("user_id", Text, nullable=False),
    Column("inputs_json", Json, nullable=False),
    Column("outputs_json", Json),
    Column("error", Text),
    Column("duration_ms", Key),
    Column("created_at", Instant, nullable=False),
    Column("started_at", Instant),
    Column("ended_at", Instant),
    Column("definition_version", Int),
    Column("definition_snapshot_json", Json),
    Column("idempotency_key", Text),
    Column("cancel_requested", Int, nullable=False, server_default="0"),
    *_runtime_columns(),
    # Submission order (version 5): PostgreSQL numbers rows itself; SQLite's inserts
    # number them (see DialectOps.identity_value).
    Column("queue_seq", Key, Identity(), nullable=False),
)


def _run_child(
    name: str, key: Column, *columns: Column | UniqueConstraint, **options: Any
) -> Table:
    """A table of one run's rows: its *key*, the tenant, the run (deleted with it), its own
    columns."""
    return Table(
        name,
        metadata,
        key,
        Column("tenant_id", Text, nullable=False),
        Column("run_id", Uuid, ForeignKey("workflow_runs.run_id", ondelete="CASCADE")),
        *columns,
        **options,
    )


workflow_steps = _run_child(
    "workflow_steps",
    Column("step_run_id", Uuid, primary_key=True),
    Column("step_id", Text, nullable=False),
    Column("name", Text),
    Column("type", Text),
    Column("status", Text),
    Column("attempt", Int, server_default="0"),
    Column("started_at", Instant),
    Column("ended_at", Instant),
    Column("inputs_json", Json),
    Column("outputs_json", Json),
    Column("error", Text),
    Column("locked_by", Text),
    Column("locked_at", Instant),
    Column("lock_expires_at", Instant),
    Column("heartbeat_at", Instant),
)

workflow_events = _run_child(
    "workflow_events",
    Column("event_id", Key, primary_key=True),
    Column("step_run_id", Uuid),
    Column("event_seq", Int, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("payload_json", Json),
    Column("created_at", Instant, nullable=False),
    UniqueConstraint("run_id", "event_seq", name="uq_workflow_events_seq"),
    **AUTOINCREMENT,
)

workflow_artifacts = _run_child(
    "workflow_artifacts",
    Column("artifact_id", Uuid, primary_key=True),
    Column("step_run_id", Uuid),
    Column("type", Text),
    Column("uri", Text),
    Column("size_bytes", Key),
    Column("mime_type", Text),
    Column("checksum_sha256", Text),
    Column("metadata_json", Json),
    Column("created_at", Instant, nullable=False),
)

workflow_workers = Table(
    "workflow_workers",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("hostname", Text, nullable=False),
    Column("pid", Int, nullable=False),
    Column("started_at", Instant, nullable=False),
    Column("heartbeat_at", Instant, nullable=False),
    Column("status", Text, nullable=False, server_default="running"),
    Column("concurrency", Int, nullable=False, server_default="1"),
    Column("lease_expires_at", Instant),
)

tldw_schema = version_table(metadata)

INDEXES = (
    Index("ix_workflow_runs_status", workflow_runs.c.status, workflow_runs.c.created_at),
    Index("ix_workflow_runs_workflow_id", workflow_runs.c.workflow_id),
    Index("ix_workflow_steps_run_id", workflow_steps.c.run_id),
    Index("ix_workflow_artifacts_run_id", workflow_artifacts.c.run_id),
)

#: Claims walk the open runs in submission order (version 5).
QUEUE_ORDER = Index(
    "ix_workflow_runs_queue",
    workflow_runs.c.queue_seq,
    postgresql_where=workflow_runs.c.status.in_(("queued", "running")),
    sqlite_where=workflow_runs.c.status.in_(("queued", "running")),
)

#: Idempotency keys are looked up per user (version 4).
USER_IDEMPOTENCY = Index(
    "ix_workflow_runs_user_idempotency",
    workflow_runs.c.tenant_id,
    workflow_runs.c.user_id,
    workflow_runs.c.idempotency_key,
)

#: What version 2 created and version 4 replaced: not part of the declared layout.
TENANT_IDEMPOTENCY = Index(
    "ix_workflow_runs_idempotency", workflow_runs.c.tenant_id, workflow_runs.c.idempotency_key
)
workflow_runs.indexes.discard(TENANT_IDEMPOTENCY)

#: The unique rule of names before version 4 (and of our users' files).
NAMES_PER_TENANT = ("tenant_id", "name", "version")
NAMES_PER_OWNER = ("tenant_id", "owner_id", "name", "version")


def _workflows_unique_on(columns: tuple[str, ...], name: str) -> Table:
    """The ``workflows`` table as declared, but with *columns* as its unique rule."""
    table = workflows.to_metadata(MetaData())
    for constraint in [c for c in table.constraints if isinstance(c, UniqueConstraint)]:
        table.constraints.discard(constraint)
    table.append_constraint(UniqueConstraint(*columns, name=name))
    return table


def _names_per_owner(ctx: UpgradeContext) -> None:
    ctx.dialect.replace_unique(ctx.conn, workflows, NAMES_PER_TENANT, ctx.namespace)
    drop_indexes(ctx, [TENANT_IDEMPOTENCY])
    create_indexes(ctx, [USER_IDEMPOTENCY])


def _names_per_tenant(ctx: UpgradeContext) -> None:
    per_tenant = _workflows_unique_on(NAMES_PER_TENANT, "uq_workflows_name_version")
    ctx.dialect.replace_unique(ctx.conn, per_tenant, NAMES_PER_OWNER, ctx.namespace)
    drop_indexes(ctx, [USER_IDEMPOTENCY])
    create_indexes(ctx, [TENANT_IDEMPOTENCY])


def _number_runs(ctx: UpgradeContext) -> None:
    """Number the runs in the order they were submitted (the layout added the columns)."""
    runs = workflow_runs
    ranked = select(
        runs.c.run_id,
        func.row_number().over(order_by=(runs.c.created_at, runs.c.run_id)).label("n"),
    ).subquery("ranked")
    ctx.conn.execute(
        update(runs).where(runs.c.run_id == ranked.c.run_id).values(queue_seq=ranked.c.n)
    )
    ctx.dialect.sync_identity(ctx.conn, runs.c.queue_seq, ctx.namespace)
    create_indexes(ctx, [QUEUE_ORDER])


def _unnumber_runs(ctx: UpgradeContext) -> None:
    drop_indexes(ctx, [QUEUE_ORDER])
    ctx.ops.drop_column("workflow_runs", "queue_seq", schema=ctx.namespace)
    ctx.ops.drop_column("workflow_workers", "lease_expires_at", schema=ctx.namespace)


def _rename_steps_and_add_runtime(ctx: UpgradeContext) -> None:
    tables = ctx.table_names()
    if "workflow_step_runs" in tables and "workflow_steps" not in tables:
        ctx.ops.rename_table("workflow_step_runs", "workflow_steps", schema=ctx.namespace)
    existing = {c["name"] for c in _columns(ctx, "workflow_runs")}
    for column in _runtime_columns():
        if column.name not in existing:
            ctx.ops.add_column("workflow_runs", column, schema=ctx.namespace)
    if "workflow_workers" not in tables:
        workflow_workers.create(ctx.conn)


def _restore_version_1(ctx: UpgradeContext) -> None:
    workflow_workers.drop(ctx.conn, checkfirst=True)
    for name, _, _ in RUN_RUNTIME_COLUMNS:
        ctx.ops.drop_column("workflow_runs", name, schema=ctx.namespace)
    ctx.ops.rename_table("workflow_steps", "workflow_step_runs", schema=ctx.namespace)


def _columns(ctx: UpgradeContext, table: str) -> list[Any]:
    from sqlalchemy import inspect

    return list(inspect(ctx.conn).get_columns(table, schema=ctx.namespace))


SCHEMA = DatabaseSchema(
    name="workflows",
    title="Workflows",
    metadata=metadata,
    version=5,
    per_user=False,
    sqlite_file="workflows.db",
    upgrades=(
        foreign_key_index_upgrade(
            2,
            (*INDEXES, TENANT_IDEMPOTENCY),
            before=_rename_steps_and_add_runtime,
            after_downgrade=_restore_version_1,
        ),
        layout_upgrade(3, "our version record apart from the users' files"),
        Upgrade(
            4,
            "workflow names and versions per owner; idempotency keys per user",
            upgrade=_names_per_owner,
            downgrade=_names_per_tenant,
        ),
        Upgrade(
            5,
            "runs numbered in submission order; a lease per worker",
            upgrade=_number_runs,
            downgrade=_unnumber_runs,
        ),
    ),
    legacy_table_names={"workflow_step_runs": "workflow_steps"},
)

__all__ = ["SCHEMA", "metadata"]
