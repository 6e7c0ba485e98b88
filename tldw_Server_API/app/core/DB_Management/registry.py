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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import text

from ..config import USER_ID_RULE, Settings
from .backends.base import Backend, Database
from .backends.pg_sql import quote_ident
from .backends.postgres import PostgresBackend
from .backends.sqlite import SqliteBackend
from .backends.target import PgTarget
from .schemas import SCHEMAS
from .schemas.manager import SchemaState, ensure_schema
from .schemas.spec import DatabaseSchema
from .user_cache import UserCache

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


@dataclass(frozen=True)
class UserDatabases:
    """One user's open databases, and the schema state each was found in."""

    user_id: str
    media: Database
    chacha: Database
    states: dict[str, SchemaState]

    @property
    def databases(self) -> tuple[Database, Database]:
        return (self.media, self.chacha)

    def get(self, name: str) -> Database:
        """The user's database *name* (``media`` or ``chacha``)."""
        return self.media if name == "media" else self.chacha


class DatabaseRegistry:
    """Opens (creating or upgrading as needed) and caches every database handle.

    The server databases (Analytics, Workflows) stay open. A user's databases
    (Media, ChaChaNotes) open on first use and live in a bounded cache of
    ``TLDW_USER_CACHE_SIZE`` users (:class:`~.user_cache.UserCache`): the least
    recently used idle user is closed first, and a user in use is never closed.
    Server code leases a user with :meth:`user` for as long as it uses the handles.

    On PostgreSQL, the content databases of every user share one pool (each
    connection's schema chosen per transaction), so a cached user costs no
    connection; the workflow database has its own pool, sized by
    ``TLDW_WORKFLOW_DB_POOL_SIZE``, ``TLDW_WORKFLOW_DB_MAX_OVERFLOW`` and
    ``TLDW_WORKFLOW_DB_TIMEOUT``. On SQLite each user's file has its own engine,
    disposed when the user is evicted.
    """

    def __init__(self, settings: Settings, *, pg_target: PgTarget | None = None) -> None:
        self.settings = settings
        self._pg_target = pg_target
        self._backends: dict[str, Backend] = {}
        self._databases: dict[str, Database] = {}
        self._server_states: dict[str, SchemaState] = {}
        self._lock = threading.RLock()
        self.user_cache: UserCache[UserDatabases] = UserCache(
            settings.user_cache_size, self._open_user, self._close_user
        )

    @property
    def kind(self) -> str:
        return self.settings.content_db_backend

    @property
    def pg_target(self) -> PgTarget:
        return self._pg_target or PgTarget.from_settings(self.settings)

    @property
    def states(self) -> dict[tuple[str, str | None], SchemaState]:
        """The schema state of every open database, by (name, user id or ``None``)."""
        found: dict[tuple[str, str | None], SchemaState] = {
            (name, None): state for name, state in self._server_states.items()
        }
        for user_id, handles in self.user_cache.open_handles():
            found |= {(name, user_id): state for name, state in handles.states.items()}
        return found

    def _shared_backend(self, schema: DatabaseSchema) -> Backend:
        """The backend of a server database, or of every user's on PostgreSQL."""
        factory: Callable[[], Backend]
        if self.settings.uses_postgres:
            key = "pg:workflows" if schema.name == "workflows" else "pg:content"
            factory = partial(self._postgres_backend, workflows=schema.name == "workflows")
        else:
            key = f"sqlite:{schema.name}"
            factory = partial(SqliteBackend, sqlite_path(self.settings, schema, None))
        with self._lock:
            if key not in self._backends:
                self._backends[key] = factory()
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

    def _open_database(self, schema: DatabaseSchema, user_id: str | None) -> Database:
        if schema.per_user and not self.settings.uses_postgres:
            backend: Backend = SqliteBackend(sqlite_path(self.settings, schema, user_id))
        else:
            backend = self._shared_backend(schema)
        namespace = pg_namespace(schema, user_id) if backend.kind == "postgresql" else None
        return Database(backend=backend, schema=schema, namespace=namespace, user_id=user_id)

    def _open_user(self, user_id: str) -> UserDatabases:
        check_user_id(user_id)
        opened: list[Database] = []
        states: dict[str, SchemaState] = {}
        try:
            for name in ("media", "chacha"):
                database = self._open_database(SCHEMAS[name], user_id)
                opened.append(database)
                states[name] = ensure_schema(database)
        except BaseException:
            self._dispose_own(opened)
            raise
        return UserDatabases(user_id, opened[0], opened[1], states)

    def _close_user(self, user_id: str, handles: UserDatabases) -> None:
        self._dispose_own(list(handles.databases))

    def _dispose_own(self, databases: list[Database]) -> None:
        """Dispose the engines these databases own (a user's SQLite files; never a shared pool)."""
        with self._lock:
            shared = set(map(id, self._backends.values()))
        for database in databases:
            if id(database.backend) not in shared:
                database.backend.dispose()

    @contextmanager
    def user(self, user_id: str | None = None) -> Iterator[UserDatabases]:
        """*user_id*'s databases (default: the default user), open for the ``with`` block."""
        with self.user_cache.lease(
            check_user_id(user_id or self.settings.default_user_id)
        ) as handles:
            yield handles

    @contextmanager
    def user_if_open(self, user_id: str) -> Iterator[UserDatabases | None]:
        """*user_id*'s databases if they are open now (else None), held for the block.

        For background work: it never opens a user nobody is using, nor counts as a use.
        """
        handles = self.user_cache.open_now(check_user_id(user_id), touch=False)
        try:
            yield handles
        finally:
            if handles is not None:
                self.user_cache.release(user_id)

    def open(self, name: str, user_id: str | None = None) -> Database:
        """The handle of database *name* (``media``, ``chacha``, ``analytics``, ``workflows``).

        A user's database is returned without a lease: for tools that use the registry
        alone (init, migration, tests). The server leases users with :meth:`user`.
        """
        schema = SCHEMAS[name]
        if schema.per_user:
            with self.user(user_id) as handles:
                return handles.get(name)
        with self._lock:
            if name not in self._databases:
                database = self._open_database(schema, None)
                self._server_states[name] = ensure_schema(database)
                self._databases[name] = database
            return self._databases[name]

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

    def open_server(self) -> list[Database]:
        """Open the server databases; on PostgreSQL, point the default ``search_path``."""
        opened = [self.analytics(), self.workflows(), self.users()]
        if self.settings.uses_postgres:
            self.set_default_search_path(self.settings.default_user_id)
        return opened

    def open_all(self, user_ids: list[str] | None = None) -> list[Database]:
        """Open every database of the server and of *user_ids* (default: the default user)."""
        users = user_ids or [self.settings.default_user_id]
        opened = [self.open(name, user) for user in users for name in ("media", "chacha")]
        return opened + self.open_server()

    def set_default_search_path(self, user_id: str) -> bool:
        """Point the PostgreSQL database's default ``search_path`` at *user_id*'s schemas.

        Returns False (and changes nothing) when the role may not alter the database.
        """
        backend = self._shared_backend(SCHEMAS["analytics"])
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
        self.user_cache.close()
        with self._lock:
            for backend in self._backends.values():
                backend.dispose()
            self._backends.clear()
            self._databases.clear()
