"""Per-user databases land in per-user schemas, and one user's migration never touches another's."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.app.core.DB_Management.sample_data import (
    generate,
    generate_installation,
    row_counts,
)


def cli(capsys: pytest.CaptureFixture[str], target: PgTarget, *args: str) -> int:
    code = run_cli(
        [
            *args,
            *("--pg-host", target.host, "--pg-port", str(target.port)),
            *("--pg-database", target.database, "--pg-user", target.user, "--quiet"),
        ],
        env={},
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return code


def schemas(target: PgTarget) -> set[str]:
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'user\\_%' "
            "OR nspname IN ('analytics', 'workflows')"
        ).fetchall()
    return {r[0] for r in rows}


def pg_counts(target: PgTarget, schema: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(target.conninfo()) as conn:
        return {
            t: conn.execute(f'SELECT count(*) FROM "{schema}"."{t.lower()}"').fetchone()[0]
            for t in tables
        }


def schema_state(target: PgTarget, schema: str) -> dict[str, object]:
    """Every table's rows (digest) and every sequence of one schema."""
    state: dict[str, object] = {}
    with psycopg.connect(target.conninfo()) as conn:
        for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        ).fetchall():
            state[name] = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) "
                f'FROM "{schema}"."{name}" t'
            ).fetchone()
        for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (schema,)
        ).fetchall():
            state[f"seq {name}"] = conn.execute(
                f'SELECT last_value, is_called FROM "{schema}"."{name}"'
            ).fetchone()
    return state


def user_files(root: Path, user: str, seed: int) -> tuple[Path, Path]:
    media = root / user / "Media_DB_v2.db"
    chacha = root / user / "ChaChaNotes.db"
    generate("media", media, size=4, seed=seed)
    generate("chacha", chacha, size=3, seed=seed)
    return media, chacha


def test_user_id_targets_that_users_schemas(
    tmp_path: Path, pg_database: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    media, chacha = user_files(tmp_path, "two", seed=2)
    cli(
        capsys, pg_database, "--content-sqlite", str(media), "--chacha-sqlite", str(chacha),
        "--user-id", "2", "--create-schema",
    )  # fmt: skip
    assert schemas(pg_database) == {"user_2_media", "user_2_chacha"}
    media_counts = row_counts("media", media)
    chacha_counts = row_counts("chacha", chacha)
    assert pg_counts(pg_database, "user_2_media", ["Media", "Claims"]) == {
        "Media": media_counts["Media"],
        "Claims": media_counts["Claims"],
    }
    assert pg_counts(pg_database, "user_2_chacha", ["messages"]) == {
        "messages": chacha_counts["messages"]
    }


def test_all_users_migrates_every_user_directory(
    tmp_path: Path, pg_database: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "Databases"
    users = ["1", "2", "alice"]
    written = generate_installation(data_dir, users=users, media_items=3)
    cli(capsys, pg_database, "--all-users", "--data-dir", str(data_dir), "--create-schema")
    expected_schemas = {f"user_{u}_{k}" for u in users for k in ("media", "chacha")}
    assert schemas(pg_database) == expected_schemas | {"analytics", "workflows"}
    for user in users:
        for kind, name in (("media", "Media_DB_v2.db"), ("chacha", "ChaChaNotes.db")):
            counts = written[f"user_databases/{user}/{name}"]
            tables = [t for t in counts if t not in ("schema_version", "db_schema_version")]
            assert pg_counts(pg_database, f"user_{user}_{kind}", tables) == {
                t: counts[t] for t in tables
            }
    assert pg_counts(pg_database, "workflows", ["workflow_steps"]) == {
        "workflow_steps": written["workflows.db"]["workflow_step_runs"]
    }


def test_migrating_one_user_never_changes_another(
    tmp_path: Path, pg_database: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    a_media, a_chacha = user_files(tmp_path, "a", seed=10)
    b_media, b_chacha = user_files(tmp_path, "b", seed=20)
    cli(
        capsys, pg_database, "--content-sqlite", str(a_media), "--chacha-sqlite", str(a_chacha),
        "--user-id", "A", "--create-schema",
    )  # fmt: skip
    before = {s: schema_state(pg_database, s) for s in ("user_A_media", "user_A_chacha")}
    for _ in range(2):  # a first migration of B, then a re-run
        cli(
            capsys, pg_database, "--content-sqlite", str(b_media), "--chacha-sqlite",
            str(b_chacha), "--user-id", "B", "--create-schema",
        )  # fmt: skip
    after = {s: schema_state(pg_database, s) for s in ("user_A_media", "user_A_chacha")}
    assert after == before
    assert schema_state(pg_database, "user_B_media") != before["user_A_media"]


def test_ids_are_kept_per_user(
    tmp_path: Path, pg_database: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {user: user_files(tmp_path, user, seed=i) for i, user in enumerate(("1", "2"))}
    with closing(sqlite3.connect(files["2"][0])) as conn:
        conn.execute("PRAGMA foreign_keys = ON")  # as their server deletes: with cascades
        conn.execute("DELETE FROM Claims WHERE id % 3 = 0")  # gaps must survive
        conn.commit()
    for user, (media, chacha) in files.items():
        cli(
            capsys, pg_database, "--content-sqlite", str(media), "--chacha-sqlite", str(chacha),
            "--user-id", user, "--create-schema",
        )  # fmt: skip
    for user, (media, chacha) in files.items():
        with closing(sqlite3.connect(media)) as conn:
            claims = sorted(r[0] for r in conn.execute("SELECT id FROM Claims"))
            media_ids = sorted(r[0] for r in conn.execute("SELECT id FROM Media"))
        with closing(sqlite3.connect(chacha)) as conn:
            notes = sorted(r[0] for r in conn.execute("SELECT id FROM notes"))
        with psycopg.connect(pg_database.conninfo()) as conn:
            assert [r[0] for r in conn.execute(
                f"SELECT id FROM user_{user}_media.claims ORDER BY id"
            )] == claims  # fmt: skip
            assert [r[0] for r in conn.execute(
                f"SELECT id FROM user_{user}_media.media ORDER BY id"
            )] == media_ids  # fmt: skip
            assert (
                sorted(r[0] for r in conn.execute(f"SELECT id FROM user_{user}_chacha.notes"))
                == notes
            )
