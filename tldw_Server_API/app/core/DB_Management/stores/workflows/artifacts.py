"""Artifacts: what a run produced (files, URLs), each announced in the run's event log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select

from ...instants import utc_now
from .base import StoreBase
from .records import Fence, public


class Artifacts(StoreBase):
    """Record and list the artifacts of runs."""

    def add_artifact(
        self,
        run_id: str,
        *,
        type: str,
        uri: str,
        step_run_id: str | None = None,
        size_bytes: int | None = None,
        mime_type: str | None = None,
        checksum_sha256: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        fence: Fence | None = None,
    ) -> dict[str, Any]:
        """Record an artifact of a run (and an ``artifact_created`` event)."""
        artifact_id = str(uuid.uuid4())
        now = utc_now()
        with self.database.begin(write=True) as conn:
            tenant = self._hold_run(conn, run_id, fence)
            conn.execute(
                insert(self.artifacts).values(
                    artifact_id=artifact_id,
                    tenant_id=tenant,
                    run_id=run_id,
                    step_run_id=step_run_id,
                    type=type,
                    uri=uri,
                    size_bytes=size_bytes,
                    mime_type=mime_type,
                    checksum_sha256=checksum_sha256,
                    metadata_json=dict(metadata or {}),
                    created_at=now,
                )
            )
            self._append_event(
                conn,
                run_id,
                tenant,
                "artifact_created",
                {"artifact_id": artifact_id, "type": type, "uri": uri},
                step_run_id=step_run_id,
                now=now,
            )
            row = conn.execute(
                select(self.artifacts).where(self.artifacts.c.artifact_id == artifact_id)
            ).one()
        return public(row)

    def list_artifacts(self, run_id: str) -> list[dict[str, Any]]:
        a = self.artifacts
        with self.database.begin(write=False) as conn:
            rows = conn.execute(
                select(a).where(a.c.run_id == run_id).order_by(a.c.created_at, a.c.artifact_id)
            ).all()
        return [public(row) for row in rows]
