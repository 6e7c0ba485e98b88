"""PostgreSQL schema artefacts: search-vector columns and the rules as PL/pgSQL triggers.

Search vectors are kept current by a row trigger: the database computes them
for every row the application writes, so no application step is ever needed to
make rows searchable. The version rule and the sync log are triggers as well.
"""

from __future__ import annotations

from sqlalchemy import Connection, LargeBinary

from ..schemas.spec import DatabaseSchema, SearchIndex, SyncedTable
from ..search import postgres_search_functions_sql, postgres_tsvector_sql
from .pg_sql import qualified, quote_ident, run_sql

SEARCH_COLUMN = "search_vector"


def search_trigger(index: SearchIndex) -> str:
    """The name of the trigger (and of its function) keeping *index*'s vectors current."""
    return f"tldw_{index.name}_vector"


def search_vector_sql(namespace: str, index: SearchIndex) -> str:
    """The expression computing *index*'s search vector from a row's columns."""
    return postgres_tsvector_sql(namespace, list(index.columns))


def install_artefacts(
    conn: Connection, schema: DatabaseSchema, namespace: str | None, *, rebuild: bool
) -> None:
    ns = namespace or "public"
    if schema.search:
        for function in postgres_search_functions_sql(ns):
            run_sql(conn, function)
    for index in schema.search:
        install_search(conn, ns, index, backfill=rebuild)
    if schema.synced:
        run_sql(conn, version_rule_function(ns))
    if schema.synced and schema.sync_log is not None:
        run_sql(conn, sync_log_function(ns, schema))
    for synced in schema.synced:
        install_triggers(conn, ns, schema, synced)


def drop_artefacts(conn: Connection, schema: DatabaseSchema, namespace: str | None) -> None:
    ns = namespace or "public"
    for synced in schema.synced:
        tbl = qualified(ns, synced.table)
        for trigger in (f"tldw_{synced.table}_version_rule", f"tldw_{synced.table}_sync"):
            run_sql(conn, f"DROP TRIGGER IF EXISTS {quote_ident(trigger)} ON {tbl}")
    for index in schema.search:
        tbl = qualified(ns, index.table)
        run_sql(conn, f"DROP TRIGGER IF EXISTS {quote_ident(search_trigger(index))} ON {tbl}")
        run_sql(conn, f"DROP FUNCTION IF EXISTS {quote_ident(ns)}.{search_trigger(index)}()")
        run_sql(conn, f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {SEARCH_COLUMN}")
    functions = ("tldw_version_rule()", "tldw_sync_log()", "fts_vector(text[], text)")
    for function in (*functions, "fts_norm(text)"):
        run_sql(conn, f"DROP FUNCTION IF EXISTS {quote_ident(ns)}.{function}")


def install_search(conn: Connection, ns: str, index: SearchIndex, *, backfill: bool) -> None:
    """A search-vector column, the trigger keeping it current, and its GIN index.

    A trigger rather than a generated column: every writer (the application,
    a plain ``COPY``) still gets a current vector, while the migration can set
    its own triggers aside and compute all vectors set-wise with parallel
    workers, which a generated column's per-row evaluation cannot use.
    """
    tbl = qualified(ns, index.table)
    function = f"{quote_ident(ns)}.{quote_ident(search_trigger(index))}"
    columns = ", ".join(quote_ident(c) for c in index.column_names)
    run_sql(conn, f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector")
    run_sql(
        conn,
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        f"BEGIN\n    NEW.{SEARCH_COLUMN} := "
        f"{postgres_tsvector_sql(ns, list(index.columns), row='NEW')};\n"
        "    RETURN NEW;\nEND\n$fn$",
    )
    trigger = quote_ident(search_trigger(index))
    run_sql(conn, f"DROP TRIGGER IF EXISTS {trigger} ON {tbl}")
    run_sql(
        conn,
        f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE OF {columns} ON {tbl} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    )
    if backfill:
        # Rows that predate the column: one set-wise pass, no rule or log triggers.
        run_sql(conn, f"ALTER TABLE {tbl} DISABLE TRIGGER USER")
        run_sql(conn, f"UPDATE {tbl} SET {SEARCH_COLUMN} = {search_vector_sql(ns, index)}")
        run_sql(conn, f"ALTER TABLE {tbl} ENABLE TRIGGER USER")
    run_sql(
        conn,
        f"CREATE INDEX IF NOT EXISTS {quote_ident(f'ix_{index.name}')} "
        f"ON {tbl} USING gin ({SEARCH_COLUMN})",
    )


def install_triggers(
    conn: Connection, ns: str, schema: DatabaseSchema, synced: SyncedTable
) -> None:
    tbl = qualified(ns, synced.table)
    rule = quote_ident(f"tldw_{synced.table}_version_rule")
    run_sql(conn, f"DROP TRIGGER IF EXISTS {rule} ON {tbl}")
    run_sql(
        conn,
        f"CREATE TRIGGER {rule} BEFORE UPDATE ON {tbl} FOR EACH ROW "
        f"EXECUTE FUNCTION {quote_ident(ns)}.tldw_version_rule()",
    )
    if schema.sync_log is None:
        return
    sync = quote_ident(f"tldw_{synced.table}_sync")
    run_sql(conn, f"DROP TRIGGER IF EXISTS {sync} ON {tbl}")
    run_sql(
        conn,
        f"CREATE TRIGGER {sync} AFTER INSERT OR UPDATE OR DELETE ON {tbl} FOR EACH ROW "
        f"EXECUTE FUNCTION {quote_ident(ns)}.tldw_sync_log("
        f"'{synced.entity}', '{synced.key}')",
    )


def version_rule_function(ns: str) -> str:
    """The function refusing an update that does not add exactly 1 to ``version``."""
    return f"""
CREATE OR REPLACE FUNCTION {quote_ident(ns)}.tldw_version_rule() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
        RAISE EXCEPTION
            'version rule: %.version must grow by exactly 1 on every update (was %, got %)',
            TG_TABLE_NAME, OLD.version, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$fn$"""


def sync_log_function(ns: str, schema: DatabaseSchema) -> str:
    """The function writing each change of a synced row to *schema*'s sync log (blobs left out)."""
    assert schema.sync_log is not None
    log = schema.sync_log
    blobs = sorted(
        {
            column.name
            for table in schema.metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, LargeBinary)
        }
        | {SEARCH_COLUMN}
    )
    strip = " ".join(f"- '{name}'" for name in blobs)
    return f"""
CREATE OR REPLACE FUNCTION {quote_ident(ns)}.tldw_sync_log() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    body jsonb;
    op text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        body := to_jsonb(OLD) {strip};
        op := 'delete';
    ELSE
        body := to_jsonb(NEW) {strip};
        op := CASE
            WHEN TG_OP = 'INSERT' THEN 'create'
            WHEN (body->>'deleted')::boolean AND NOT (to_jsonb(OLD)->>'deleted')::boolean
                THEN 'delete'
            ELSE 'update'
        END;
    END IF;
    INSERT INTO {qualified(ns, log.table)}
        (entity, {log.key_column}, operation, timestamp, client_id, version, payload)
    VALUES (
        TG_ARGV[0], body->>TG_ARGV[1], op,
        coalesce((body->>'last_modified')::timestamptz, now()),
        coalesce(body->>'client_id', 'unknown'),
        coalesce((body->>'version')::integer, 1),
        body
    );
    RETURN NULL;
END
$fn$"""
