"""Where a PostgreSQL database is: the connection parameters, kept secret-safe."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr
from sqlalchemy import URL

from ...config import PG_DEFAULTS, Settings

#: The parts of a PostgreSQL connection a user sets: :class:`PgTarget`'s fields. The server's
#: settings and the migration tool's flags name each ``pg_<part>`` (``pg_host``, ``--pg-host``).
CONNECTION_PARTS = ("host", "port", "database", "user", "password", "sslmode")


def pg_parts(source: object) -> dict[str, Any]:
    """The connection parts *source* holds as ``pg_<part>`` attributes (settings, parsed flags)."""
    return {part: getattr(source, f"pg_{part}") for part in CONNECTION_PARTS}


@dataclass(frozen=True)
class PgTarget:
    """The parameters of one PostgreSQL connection.

    ``repr`` and :meth:`describe` never show the password; only :meth:`conninfo`
    and :meth:`sqlalchemy_url` carry it, to the driver and nowhere else. An empty
    password means "let libpq decide" (``PGPASSWORD``, ``~/.pgpass``, trust).
    """

    host: str = PG_DEFAULTS.host
    port: int = PG_DEFAULTS.port
    database: str = PG_DEFAULTS.database
    user: str = PG_DEFAULTS.user
    password: SecretStr | None = field(default=None, repr=False)
    sslmode: str = PG_DEFAULTS.sslmode
    application_name: str = "tldw_server"

    @classmethod
    def from_settings(cls, settings: Settings) -> PgTarget:
        return cls(**pg_parts(settings))

    @classmethod
    def from_dsn(cls, dsn: str) -> PgTarget:
        """Parse a libpq DSN (``postgresql://...`` or ``key=value``) into a target.

        A part the DSN leaves out takes its default (:data:`~...config.PG_DEFAULTS`).
        """
        parts = conninfo_to_dict(dsn)
        given: dict[str, Any] = {
            "host": parts.get("host"),
            "port": int(str(parts["port"])) if parts.get("port") else None,
            "database": parts.get("dbname"),
            "user": parts.get("user"),
            "password": SecretStr(str(parts["password"])) if parts.get("password") else None,
            "sslmode": parts.get("sslmode"),
        }
        return cls(**{name: value for name, value in given.items() if value})

    def with_database(self, database: str) -> PgTarget:
        return replace(self, database=database)

    def describe(self) -> str:
        """A log-safe description: ``PostgreSQL at host:port/database``."""
        return f"PostgreSQL at {self.host}:{self.port}/{self.database}"

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "sslmode": self.sslmode,
            "application_name": self.application_name,
            "connect_timeout": 10,
        }
        if self.password is not None and self.password.get_secret_value():
            params["password"] = self.password.get_secret_value()
        return params

    def conninfo(self) -> str:
        """The libpq connection string, password included: hand it to the driver only."""
        return make_conninfo(**self._params())

    def sqlalchemy_url(self) -> URL:
        """The SQLAlchemy URL for psycopg 3 (its ``repr`` masks the password)."""
        params = self._params()
        password = params.pop("password", None)
        host = params.pop("host")
        # A socket directory cannot sit in the URL's host slot; libpq takes it as a query.
        return URL.create(
            "postgresql+psycopg",
            username=params.pop("user"),
            password=password,
            host=None if host.startswith("/") else host,
            port=params.pop("port"),
            database=params.pop("dbname"),
            query={k: str(v) for k, v in params.items()}
            | ({"host": host} if host.startswith("/") else {}),
        )
