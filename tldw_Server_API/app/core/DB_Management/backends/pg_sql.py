"""PostgreSQL identifiers and raw DDL: the pieces every PostgreSQL module spells the same way."""

from __future__ import annotations

from sqlalchemy import Connection


def quote_ident(name: str) -> str:
    """*name* as a PostgreSQL identifier: in double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def qualified(namespace: str | None, name: str) -> str:
    """*name* inside *namespace* (a PostgreSQL schema), both quoted; bare without one."""
    return f"{quote_ident(namespace)}.{quote_ident(name)}" if namespace else quote_ident(name)


def run_sql(conn: Connection, sql: str) -> None:
    """Execute one DDL or PL/pgSQL statement as written."""
    # The driver always parses '%' placeholders: double the '%' of PL/pgSQL messages.
    # (text() would also take ':name' inside literals for bind parameters.)
    conn.exec_driver_sql(sql.replace("%", "%%"))
