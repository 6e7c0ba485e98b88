"""Where a PostgreSQL database is: the connection parameters, kept secret-safe."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr
from sqlalchemy import URL

from ...config import Settings


@dataclass(frozen=True)
class PgTarget:
    """The parameters of one PostgreSQL connection.

    ``repr`` and :meth:`describe` never show the password; only :meth:`conninfo`
    and :meth:`sqlalchemy_url` carry it, to the driver and nowhere else. An empty
    password means "let libpq decide" (``PGPASSWORD``, ``~/.pgpass``, trust).
    """

    host: str = "localhost"
    port: int = 5432
    database: str = "postgres"
    user: str = "postgres"
    password: SecretStr | None = field(default=None, repr=False)
    sslmode: str = "prefer"
    application_name: str = "tldw_server"

    @classmethod
    def from_settings(cls, settings: Settings) -> PgTarget:
        return cls(
            host=settings.pg_host,
            port=settings.pg_port,
            database=settings.pg_database,
            user=settings.pg_user,
            password=settings.pg_password,
            sslmode=settings.pg_sslmode,
        )

    @classmethod
    def from_dsn(cls, dsn: str, **defaults: Any) -> PgTarget:
        """Parse a libpq DSN (``postgresql://...`` or ``key=value``) into a target."""
        parts = conninfo_to_dict(dsn)
        password = parts.get("password")
        return cls(
            host=str(parts.get("host") or defaults.get("host", "localhost")),
            port=int(parts.get("port") or defaults.get("port", 5432)),
            database=str(parts.get("dbname") or defaults.get("database", "postgres")),
            user=str(parts.get("user") or defaults.get("user", "postgres")),
            password=SecretStr(str(password)) if password else defaults.get("password"),
            sslmode=str(parts.get("sslmode") or defaults.get("sslmode", "prefer")),
        )

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
