"""Workflow definitions: versioned per owner and name, visible to their owner (and to
everyone when not private), deactivated rather than deleted (runs keep their snapshot)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...instants import utc_now
from ..errors import Conflict, NotFound
from .base import StoreBase
from .records import public


def visible_to(definition: Mapping[Any, Any], user_id: str) -> bool:
    """Whether *user_id* may see and run *definition*: their own, or not private."""
    return definition["owner_id"] == user_id or definition["visibility"] != "private"


class Definitions(StoreBase):
    """Create, find, list and deactivate workflow definitions."""

    def create_definition(
        self,
        name: str,
        definition: Mapping[str, Any],
        *,
        owner_id: str,
        description: str | None = None,
        tags: Sequence[str] | str | None = None,
        visibility: str = "private",
    ) -> dict[str, Any]:
        """Store *definition* under *name*: version 1, or the next version of the owner's
        definition of that name (names are per owner: two users' "payroll" are two
        workflows, each with its own versions)."""
        tag_text = ",".join(tags) if isinstance(tags, list | tuple) else tags
        for _ in range(5):
            try:
                with self.database.begin(write=True) as conn:
                    self._serialize(conn, f"definition:{self.tenant_id}:{owner_id}:{name}")
                    latest = conn.execute(
                        select(func.max(self.workflows.c.version)).where(
                            self.workflows.c.tenant_id == self.tenant_id,
                            self.workflows.c.owner_id == owner_id,
                            self.workflows.c.name == name,
                        )
                    ).scalar_one()
                    version = int(latest or 0) + 1
                    now = utc_now()
                    body = dict(definition) | {"name": name, "version": version}
                    new_id = conn.execute(
                        insert(self.workflows)
                        .values(
                            tenant_id=self.tenant_id,
                            name=name,
                            version=version,
                            owner_id=owner_id,
                            visibility=visibility,
                            description=description,
                            tags=tag_text,
                            definition_json=body,
                            created_at=now,
                            updated_at=now,
                            is_active=1,
                        )
                        .returning(self.workflows.c.id)
                    ).scalar_one()
                return self.get_definition(int(new_id))
            except IntegrityError:  # a concurrent creator took this version: take the next
                continue
        raise Conflict(f"could not allocate a version for workflow {name!r}")

    def get_definition(self, workflow_id: int) -> dict[str, Any]:
        with self.database.begin(write=False) as conn:
            row = conn.execute(
                select(self.workflows).where(self.workflows.c.id == workflow_id)
            ).first()
        if row is None:
            raise NotFound("workflows", workflow_id)
        return public(row)

    def get_definition_by_name(
        self, name: str, version: int | None = None, *, owner_id: str
    ) -> dict[str, Any]:
        """The given version of *owner_id*'s *name*, or its newest active version."""
        query = select(self.workflows).where(
            self.workflows.c.tenant_id == self.tenant_id,
            self.workflows.c.owner_id == owner_id,
            self.workflows.c.name == name,
        )
        if version is None:
            query = query.where(self.workflows.c.is_active == 1)
        else:
            query = query.where(self.workflows.c.version == version)
        with self.database.begin(write=False) as conn:
            row = conn.execute(query.order_by(self.workflows.c.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound("workflows", name, f"version {version or 'latest active'}")
        return public(row)

    def list_definitions(
        self,
        *,
        name: str | None = None,
        owner_id: str | None = None,
        include_inactive: bool = False,
        latest_only: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Definitions by name, newest version first. *owner_id* keeps the owner's and the
        ones :func:`visible_to` everyone. A name's versions are its owner's: *latest_only*
        keeps the newest version of each owner's name."""
        w = self.workflows
        query = select(w).where(w.c.tenant_id == self.tenant_id)
        if name is not None:
            query = query.where(w.c.name == name)
        if owner_id is not None:
            query = query.where(or_(w.c.owner_id == owner_id, w.c.visibility != "private"))
        if not include_inactive:
            query = query.where(w.c.is_active == 1)
        if latest_only:
            newer = w.alias("newer")
            newer_version = [
                newer.c.tenant_id == w.c.tenant_id,
                newer.c.owner_id == w.c.owner_id,
                newer.c.name == w.c.name,
                newer.c.version > w.c.version,
            ]
            if not include_inactive:
                newer_version.append(newer.c.is_active == 1)
            query = query.where(~select(newer.c.id).where(*newer_version).exists())
        query = query.order_by(w.c.name, w.c.owner_id, w.c.version.desc())
        query = query.limit(limit).offset(offset)
        with self.database.begin(write=False) as conn:
            return [public(row) for row in conn.execute(query)]

    def deactivate_definition(self, workflow_id: int) -> dict[str, Any]:
        """Hide a definition version from new runs (existing runs keep their snapshot)."""
        with self.database.begin(write=True) as conn:
            result = conn.execute(
                update(self.workflows)
                .where(self.workflows.c.id == workflow_id)
                .values(is_active=0, updated_at=utc_now())
            )
            if result.rowcount != 1:
                raise NotFound("workflows", workflow_id)
        return self.get_definition(workflow_id)
