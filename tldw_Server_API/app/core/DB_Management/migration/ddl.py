"""Create one of our schemas from one rendered script, inside the migration's transaction.

Opening a database on the server (:func:`..schemas.manager.ensure_schema`) creates its
schema statement by statement, each a round trip, and checks first what exists. A
migration that creates the schema of every user would spend most of a small user's
time there, so :func:`schema_script` renders the same statements as text (the
tables and indexes as SQLAlchemy compiles them, the triggers and functions as the
PostgreSQL dialect writes them, the version record) and :func:`create_schema` sends
them in one round trip.

Run inside the load's transaction, the creation is undone with everything else when
the load fails, and the tables it made count as created in that transaction: the load
writes them with ``COPY ... FREEZE`` without truncating them first.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
from sqlalchemy import Connection, bindparam, create_mock_engine, insert, literal
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, TextClause

from ..backends.postgres import PostgresDialect
from ..schemas.spec import DatabaseSchema

#: The URL only picks SQLAlchemy's PostgreSQL dialect for compiling; nothing connects.
_RENDERING_URL = "postgresql+psycopg://"


class _Script:
    """Stands in for a connection: keeps, as text, every statement it is given."""

    def __init__(self, dialect: Dialect, namespace: str) -> None:
        self.dialect = dialect
        self.namespace = namespace
        self.statements: list[str] = []

    def compiled(self, element: ClauseElement) -> str:
        text = element.compile(
            dialect=self.dialect,
            schema_translate_map={None: self.namespace},
            render_schema_translate=True,
            compile_kwargs={"literal_binds": True},
        )
        return str(text).strip()

    def execute(self, statement: Executable, parameters: dict[str, Any] | None = None) -> None:
        element = cast(ClauseElement, statement)
        if parameters and isinstance(element, TextClause):
            # Typed as their values are, so that they render as literals.
            typed = [bindparam(k, v, type_=literal(v).type) for k, v in parameters.items()]
            element = element.bindparams(*typed)
        elif parameters:
            raise TypeError(f"cannot render the parameters of {type(element).__name__}")
        self.statements.append(self.compiled(element))

    def exec_driver_sql(self, statement: str) -> None:
        # run_sql doubled every '%' for the driver's placeholders; a script has none.
        self.statements.append(statement.replace("%%", "%"))


def schema_script(schema: DatabaseSchema, namespace: str) -> str:
    """The statements creating *schema* in the absent PostgreSQL schema *namespace*,
    as the server's first opening would: its lock, the schema, tables, indexes,
    search vectors, triggers and version record."""
    dialect = PostgresDialect()
    script = _Script(psycopg_dialect(), namespace)
    engine = create_mock_engine(_RENDERING_URL, lambda sql, *a, **k: script.execute(sql))
    conn = cast(Connection, script)
    # Whoever else opens this schema meanwhile (a starting server) waits for our commit.
    dialect.serialize(conn, namespace)
    dialect.prepare_namespace(conn, namespace)
    schema.metadata.create_all(engine, checkfirst=False)  # type: ignore[arg-type]
    dialect.install_artefacts(conn, schema, namespace, rebuild=False)
    record = schema.version_record
    script.execute(
        insert(schema.table(record.table)).values(
            schema_name=record.schema_name, version=schema.version
        )
    )
    return ";\n".join(script.statements) + ";\n"


def run_script(conn: psycopg.Connection, statements: list[str]) -> None:
    """Run *statements* (no parameters) in one round trip; PostgreSQL stops at the first
    that fails, raising its error."""
    if statements:
        conn.execute(";\n".join(statements))


def create_schema(conn: psycopg.Connection, schema: DatabaseSchema, namespace: str) -> None:
    """Create *schema* in *namespace* (which must not exist) in one round trip, inside the
    caller's transaction."""
    conn.execute(schema_script(schema, namespace))


__all__ = ["create_schema", "run_script", "schema_script"]
