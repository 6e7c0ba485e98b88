"""Settings of the load's transaction: what the load asks of PostgreSQL while it owns the target.

Every setting is ``SET LOCAL``: it ends with the transaction, so the
application's later sessions keep the server's defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

_PARALLEL_SETTINGS = {
    "max_parallel_workers_per_gather": "2",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
}


def prepare_load_session(conn: psycopg.Connection) -> None:
    """The settings the load needs, for the rest of the caller's transaction (one round trip).

    Rows are sent as UTF-8 whatever the database's encoding: a character it cannot hold is
    then refused by the server, for a row and column the error names (not by the driver).
    What the load writes is compressed with lz4 when the server has it: pglz, the
    default, costs more CPU than any other step of storing a row of text; lz4 values are
    read transparently, and rows written later by the application keep the server's
    default.
    """
    conn.execute(
        "SELECT set_config('TimeZone', 'UTC', true), "
        "set_config('client_encoding', 'UTF8', true), "
        "set_config('maintenance_work_mem', '256MB', true), "
        "(SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
        "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))"
    )


@contextmanager
def parallel_workers(conn: psycopg.Connection) -> Iterator[None]:
    """Let the statements inside use parallel workers even on tables this transaction wrote.

    The planner's costs assume a busy server; during a migration the target is ours.
    """
    for name, value in _PARALLEL_SETTINGS.items():
        conn.execute(f"SET LOCAL {name} = {value}")
    try:
        yield
    finally:
        for name in _PARALLEL_SETTINGS:
            conn.execute(f"SET LOCAL {name} TO DEFAULT")
