"""``--all-users`` creates each user's schemas inside the user's own load transaction, from
one rendered script (:mod:`...migration.ddl`): the schemas must be exactly what the server
creates, and what the load sets aside must all come back."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.ddl import create_schema
from tldw_Server_API.app.core.DB_Management.migration.target import read_target
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry, pg_namespace
from tldw_Server_API.app.core.DB_Management.sample_data import generate_installation
from tldw_Server_API.app.core.DB_Management.schemas import SCHEMAS
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.DB_Management.conftest import media_row, pg_flags


def describe(conn: psycopg.Connection, namespace: str, only_ours: str | None = None) -> dict:
    """Everything that defines *namespace*'s tables, triggers and functions, with the
    namespace's name taken out of qualified names; with *only_ours* (a schema name), only
    the tables and columns that schema declares."""
    ours = SCHEMAS[only_ours].metadata.tables if only_ours else None
    tables: dict[str, object] = {}
    for name, table in read_target(conn, namespace).items():
        if ours is not None and name not in ours:
            continue
        columns = [c for c in table.columns if ours is None or c.name in ours[name].c]
        tables[name] = repr((columns, table.constraints, table.indexes, table.user_triggers))
    triggers = conn.execute(
        "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY 1",
        (namespace,),
    ).fetchall()
    functions = conn.execute(
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1",
        (namespace,),
    ).fetchall()
    defaults = conn.execute(
        "SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d "
        "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
        "JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s ORDER BY 1, 2",
        (namespace,),
    ).fetchall()
    if ours is not None:
        defaults = [d for d in defaults if d[0] in ours and d[1] in ours[d[0]].c]
    version = conn.execute(
        f'SELECT schema_name, version FROM "{namespace}".tldw_schema ORDER BY 1'
    ).fetchall()
    described = {
        "tables": tables,
        "triggers": triggers,
        "functions": functions,
        "defaults": defaults,
        "version": version,
    }
    # The namespace where it qualifies a name (a table may be named as its schema: users).
    qualifier = re.compile(rf'(?<![\w"])(?:{re.escape(namespace)}|"{re.escape(namespace)}")\.')
    plain = json.loads(json.dumps(described, default=str))
    return {key: _unqualified(value, qualifier) for key, value in plain.items()}


def _unqualified(value: object, qualifier: re.Pattern[str]) -> object:
    if isinstance(value, str):
        return qualifier.sub("NS.", value)
    if isinstance(value, list):
        return [_unqualified(v, qualifier) for v in value]
    if isinstance(value, dict):
        return {k: _unqualified(v, qualifier) for k, v in value.items()}
    return value


def created_by_the_server(target: PgTarget, tmp_path: Path, name: str, user: str) -> str:
    """Open database *name* (of *user*) the server's way; its PostgreSQL schema."""
    registry = DatabaseRegistry(settings_for("postgresql", tmp_path, target), pg_target=target)
    try:
        registry.open(name, user)
    finally:
        registry.close()
    return pg_namespace(SCHEMAS[name], user)


def one_user_installation(tmp_path: Path, user: str, target: PgTarget) -> tuple[Path, list[str]]:
    """A tiny installation of *user*; its data directory and the ``--all-users`` arguments."""
    data_dir = tmp_path / "Databases"
    generate_installation(data_dir, users=[user], media_items=1)
    argv = ["--all-users", "--data-dir", str(data_dir), "--create-schema", "--quiet"]
    return data_dir, [*argv, *pg_flags(target)]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_rendered_script_creates_the_schema_the_server_creates(
    pg_target: PgTarget, tmp_path: Path, name: str
) -> None:
    user = f"s{uuid.uuid4().hex[:10]}"
    served = created_by_the_server(pg_target, tmp_path, name, user)
    scripted = f"scripted_{uuid.uuid4().hex[:10]}"

    with psycopg.connect(pg_target.conninfo(), autocommit=True) as conn:
        with conn.transaction():
            create_schema(conn, SCHEMAS[name], scripted)
        assert describe(conn, scripted) == describe(conn, served)


def test_a_migrated_user_keeps_every_key_index_and_trigger_of_the_server_schema(
    pg_database: PgTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, argv = one_user_installation(tmp_path, "p", pg_database)

    assert run_cli(argv, env={}) == 0, capsys.readouterr()

    with psycopg.connect(pg_database.conninfo(), autocommit=True) as conn:
        for name in ("media", "chacha"):
            served = created_by_the_server(pg_database, tmp_path / "served", name, "q")
            migrated = pg_namespace(SCHEMAS[name], "p")
            assert describe(conn, migrated, name) == describe(conn, served, name)


def test_a_user_whose_load_fails_leaves_no_schema_and_a_rerun_creates_it(
    pg_database: PgTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, argv = one_user_installation(tmp_path, "f", pg_database)
    media = data_dir / "user_databases" / "f" / "Media_DB_v2.db"
    with closing(sqlite3.connect(media)) as conn, conn:
        media_row(conn, 900, content="before\x00after")  # PostgreSQL refuses a NUL in text
    namespaces = [pg_namespace(SCHEMAS[n], "f") for n in ("media", "chacha")]

    assert run_cli(argv, env={}) == 2
    with psycopg.connect(pg_database.conninfo()) as conn:
        found = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (namespaces,)
        ).fetchall()
    assert found == []

    with closing(sqlite3.connect(media)) as conn, conn:
        conn.execute("DELETE FROM Media WHERE id = 900")
    assert run_cli(argv, env={}) == 0, capsys.readouterr()
    with psycopg.connect(pg_database.conninfo()) as conn:
        rows = conn.execute(f'SELECT count(*) FROM "{namespaces[0]}".media').fetchone()
    assert rows == (1,)


def test_all_users_points_the_database_search_path_at_the_default_user(
    pg_database: PgTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, argv = one_user_installation(tmp_path, "d", pg_database)

    assert run_cli(argv, env={}) == 0, capsys.readouterr()

    with psycopg.connect(pg_database.conninfo()) as conn:
        (path,) = conn.execute("SHOW search_path").fetchone() or ("",)
    assert path.startswith("user_1_media, user_1_chacha, workflows, analytics")
