"""What the ChaChaNotes stores (notes, characters, chats) share.

The three stores work over one ChaChaNotes :class:`~..backends.base.Database`.
Notes, conversations and messages are keyed by uuid4 text; characters and
keywords by integers. Deletes are soft (``deleted``), logged by the database's
sync triggers as 'delete', and reversible where a restore is offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from sqlalchemy import Connection, Table, select

from ..backends.base import Database
from ._common import VersionCheck, now, require_schema, update_versioned
from .errors import NotFound, VersionConflict


class ChaChaStore:
    """What the three stores share: the database, the client id, new-row sync columns."""

    def __init__(self, database: Database, client_id: str = "server") -> None:
        require_schema(self, database, "chacha", "a ChaChaNotes database")
        self.database = database
        self.client_id = client_id

    def _table(self, name: str) -> Table:
        return self.database.table(name)

    def _new_sync(self, *, created: bool = True) -> dict[str, Any]:
        moment = now()
        values: dict[str, Any] = {
            "last_modified": moment,
            "version": 1,
            "client_id": self.client_id,
            "deleted": False,
        }
        if created:
            values["created_at"] = moment
        return values

    def _update(
        self,
        conn: Connection,
        table: str,
        key: Any,
        changes: Mapping[str, Any],
        **check: Unpack[VersionCheck],
    ) -> int:
        """Change *table*'s row *key* as this store's client (the version rule, see
        :func:`._common.update_versioned`); return its new version."""
        return update_versioned(
            conn, self._table(table), key, changes, client_id=self.client_id, **check
        )

    def _soft_delete(self, table: str, key: Any, expected_version: int | None) -> int:
        with self.database.begin(write=True) as conn:
            return self._update(
                conn, table, key, {"deleted": True}, expected_version=expected_version
            )

    def _restore(
        self, conn: Connection, table: str, key: Any, expected_version: int | None = None
    ) -> None:
        """Undelete *key*; a live row is left as it is (after the version check, if any)."""
        tbl = self._table(table)
        row = conn.execute(select(tbl.c.deleted, tbl.c.version).where(tbl.c.id == key)).first()
        if row is None:
            raise NotFound(table, key)
        if expected_version is not None and int(row.version) != expected_version:
            raise VersionConflict(table, key, expected_version, int(row.version))
        if row.deleted:
            self._update(
                conn,
                table,
                key,
                {"deleted": False},
                expected_version=expected_version,
                live_only=False,
            )
