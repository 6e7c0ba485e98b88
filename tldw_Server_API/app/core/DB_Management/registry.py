"""Where each database lives, and the handles to them, built from configuration.

On SQLite every database is a file: per user
``<data_dir>/user_databases/<user_id>/Media_DB_v2.db`` and ``ChaChaNotes.db``,
per server ``<data_dir>/Analytics.db``, ``<data_dir>/workflows.db`` and
``<data_dir>/tldw_users.db`` (accounts that sign in with a password).

On PostgreSQL every database is a schema of one PostgreSQL database: per user
``user_<user_id>_media`` and ``user_<user_id>_chacha``, per server
``analytics``, ``workflows`` and ``users``. Ids never collide between users, a handle for
one user cannot name another's tables, and Media's and ChaChaNotes' tables of
the same name (``keywords``, ``sync_log``) live apart. The database's default
``search_path`` names the default user's schemas first, so the guide's checks
(``SELECT COUNT(*) FROM media``, ``FROM workflow_runs``) work as written in psql.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from sqlalchemy import text

from ..config import USER_ID_RULE, Settings
from .backends.base import Backend, Database
from .backends.postgres import PostgresBackend, quote_ident
from .backends.sqlite import SqliteBackend
from .backends.target import PgTarget
from .schemas import SCHEMAS
from .schemas.manager import SchemaState, ensure_schema
from .schemas.spec import DatabaseSchema

USER_ID_PATTERN = re.compile(USER_ID_RULE)


class InvalidUserId(ValueError):
    """A user id that cannot name a directory or a schema safely."""


def check_user_id(user_id: str) -> str:
    if not USER_ID_PATTERN.match(user_id):
        raise InvalidUserId(f"user id {user_id!r} is invalid: use 1-40 letters, digits, '_' or '-'")
    return user_id


def pg_namespace(schema: DatabaseSchema, user_id: str | None) -> str:
    """The PostgreSQL schema holding *schema* for *user_id* (``user_1_media``, ``workflows``)."""
    if not schema.per_user:
        return schema.name
    if user_id is None:
        raise InvalidUserId(f"the {schema.title} database belongs to a user: give a user id")
    return f"user_{check_user_id(user_id)}_{schema.name}"


def sqlite_path(settings: Settings, schema: DatabaseSchema, user_id: str | None) -> Path:
    """The SQLite file holding *schema* for *user_id*."""
    if not schema.per_user:
        return settings.data_dir / schema.sqlite_file
    if user_id is None:
        raise InvalidUserId(f"the {schema.title} database belongs to a user: give a user id")
    return settings.user_dir(check_user_id(user_id)) / schema.sqlite_file


def default_search_path(user_id: str) -> list[str]:
    return [
        pg_namespace(SCHEMAS["media"], user_id),
        pg_namespace(SCHEMAS["chacha"], user_id),
        pg_namespace(SCHEMAS["workflows"], None),
        pg_namespace(SCHEMAS["analytics"], None),
        "public",
    ]


class DatabaseRegistry:
    """Opens (creating or upgrading as needed) and caches every database handle.

    On PostgreSQL, the content databases share one pool and the workflow
    database has its own, sized by ``TLDW_WORKFLOW_DB_POOL_SIZE``,
    ``TLDW_WORKFLOW_DB_MAX_OVERFLOW`` and ``TLDW_WORKFLOW_DB_TIMEOUT``.
    """

    def __init__(self, settings: Settings, *, pg_target: PgTarget | None = None) -> None:
        self.settings = settings
        self._pg_target = pg_target
        self._backends: dict[str, Backend] = {}
        self._databases: dict[tuple[str, str | None], Database] = {}
        self.states: dict[tuple[str, str | None], SchemaState] = {}
        self._lock = threading.RLock()

    @property
    def kind(self) -> str:
        return self.settings.content_db_backend

    @property
    def pg_target(self) -> PgTarget:
        return self._pg_target or PgTarget.from_settings(self.settings)

    def _backend_for(self, schema: DatabaseSchema, user_id: str | None) -> Backend:
        if self.settings.uses_postgres:
            key = "pg:workflows" if schema.name == "workflows" else "pg:content"
            if key not in self._backends:
                self._backends[key] = self._postgres_backend(workflows=schema.name == "workflows")
            return self._backends[key]
        path = sqlite_path(self.settings, schema, user_id)
        key = f"sqlite:{path.resolve()}"
        if key not in self._backends:
            self._backends[key] = SqliteBackend(path)
        return self._backends[key]

    def _postgres_backend(self, *, workflows: bool) -> PostgresBackend:
        if workflows:
            return PostgresBackend(
                self.pg_target,
                pool_size=self.settings.workflow_db_pool_size,
                max_overflow=self.settings.workflow_db_max_overflow,
                pool_timeout=self.settings.workflow_db_timeout,
            )
        return PostgresBackend(self.pg_target, pool_size=5, max_overflow=10)

    def open(self, name: str, user_id: str | None = None) -> Database:
        """The handle of database *name* (``media``, ``chacha``, ``analytics``, ``workflows``)."""
        schema = SCHEMAS[name]
        owner = (user_id or self.settings.default_user_id) if schema.per_user else None
        key = (name, owner)
        with self._lock:
            if key in self._databases:
                return self._databases[key]
            backend = self._backend_for(schema, owner)
            namespace = pg_namespace(schema, owner) if backend.kind == "postgresql" else None
            database = Database(backend=backend, schema=schema, namespace=namespace, user_id=owner)
            self.states[key] = ensure_schema(database)
            self._databases[key] = database
            return database

    def media(self, user_id: str | None = None) -> Database:
        return self.open("media", user_id)

    def chacha(self, user_id: str | None = None) -> Database:
        return self.open("chacha", user_id)

    def analytics(self) -> Database:
        return self.open("analytics")

    def workflows(self) -> Database:
        return self.open("workflows")

    def users(self) -> Database:
        return self.open("users")

    def open_all(self, user_ids: list[str] | None = None) -> list[Database]:
        """Open every database of the server and of *user_ids* (default: the default user)."""
        users = user_ids or [self.settings.default_user_id]
        opened = [self.open(name, user) for user in users for name in ("media", "chacha")]
        opened += [self.analytics(), self.workflows(), self.users()]
        if self.settings.uses_postgres:
            self.set_default_search_path(self.settings.default_user_id)
        return opened

    def set_default_search_path(self, user_id: str) -> bool:
        """Point the PostgreSQL database's default ``search_path`` at *user_id*'s schemas.

        Returns False (and changes nothing) when the role may not alter the database.
        """
        backend = self._backend_for(SCHEMAS["analytics"], None)
        path = ", ".join(quote_ident(n) for n in default_search_path(user_id))
        database = quote_ident(self.pg_target.database)
        with backend.engine.connect() as conn:
            try:
                with conn.begin():
                    conn.execute(text(f"ALTER DATABASE {database} SET search_path TO {path}"))
            except Exception:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                backend.dispose()
            self._backends.clear()
            self._databases.clear()
