"""The cut-over story, over a real socket.

1. Start the server (a subprocess) on SQLite; write media with keywords and
   claims, notes, a character, a chat with messages and a workflow run over
   HTTP; search.
2. Stop it; migrate its SQLite files with the migration CLI (a subprocess) into
   a fresh PostgreSQL database.
3. Start it again with ``TLDW_CONTENT_DB_BACKEND=postgresql``: its start-up log
   names PostgreSQL for Media, ChaChaNotes, Analytics and Workflows; every item
   reads back identical (ids, uuids, versions, timestamps); every search returns
   the same results; new writes work and take the next ids (sequences resynced).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[3]
KEY = "cutover-test-key-5f2b9c"
HEADERS = {"X-API-KEY": KEY}
DATABASES = ("Media", "ChaChaNotes", "Analytics", "Workflows")
#: How long a server may take to answer its health check: creating every PostgreSQL schema
#: takes tens of seconds on a loaded two-core machine.
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without any server or libpq setting, plus *extra*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDW_", "PG", "SINGLE_USER"))}
    env |= {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "TLDW_CONFIG_FILE": str(tmp_path / "no-config.txt"),
        "TLDW_DATA_DIR": str(tmp_path / "Databases"),
        "SINGLE_USER_API_KEY": KEY,
        "TLDW_WORKFLOW_WORKERS": "1",
    }
    return env | extra


def server_pg_env(target: PgTarget) -> dict[str, str]:
    """The server's variables for PostgreSQL at *target*."""
    env = {
        "TLDW_CONTENT_DB_BACKEND": "postgresql",
        "TLDW_PG_HOST": target.host,
        "TLDW_PG_PORT": str(target.port),
        "TLDW_PG_DATABASE": target.database,
        "TLDW_PG_USER": target.user,
    }
    if target.password is not None:
        env["TLDW_PG_PASSWORD"] = target.password.get_secret_value()
    return env


@dataclass
class LiveServer:
    """A server subprocess: a client on its port, its log file, the process itself."""

    client: httpx.Client
    log_path: Path
    process: subprocess.Popen[bytes]
    base_url: str


@contextmanager
def server_process(
    tmp_path: Path, log_name: str, *, access_log: bool = False, **extra_env: str
) -> Iterator[LiveServer]:
    """A server subprocess on a free port, up (health answers 200); stopped with SIGTERM."""
    port = free_port()
    log_path = tmp_path / log_name
    command = [sys.executable, "-m", "tldw_Server_API.app.main", "--port", str(port)]
    if not access_log:
        command.append("--no-access-log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=clean_env(tmp_path, **extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not up: {log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            yield LiveServer(client, log_path, process, base)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # uvicorn re-raises SIGTERM after a graceful shutdown, so -SIGTERM is a clean exit too.
    log_text = log_path.read_text(errors="replace")
    assert process.returncode in (0, -signal.SIGTERM), log_text
    assert "Databases closed" in log_text, log_text


@contextmanager
def server(tmp_path: Path, log_name: str, **extra_env: str) -> Iterator[tuple[httpx.Client, Path]]:
    """A server subprocess on a free port; yields a client and its log file."""
    with server_process(tmp_path, log_name, **extra_env) as live:
        yield live.client, live.log_path


def ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, (response.request.url, response.text)
    return response.json()


def add_media(
    client: httpx.Client, title: str, content: str, keywords: list[str], author: str = "Tester"
) -> int:
    """Add one text file through POST /api/v1/media/add (tldw_server's form); its id."""
    form = {"media_type": "document", "title": title, "author": author}
    form["keywords"] = ",".join(keywords)
    files = [("files", (f"{title}.txt", content.encode(), "text/plain"))]
    return int(ok(client.post("/api/v1/media/add", data=form, files=files))["results"][0]["db_id"])


def search(client: httpx.Client, path: str, query: str) -> list[dict[str, Any]]:
    """The hits of one search: the media search takes a JSON body, the others ``?q=``."""
    if path == "/api/v1/media/search":
        return list(ok(client.post(path, json={"query": query}))["items"])
    return list(ok(client.get(path, params={"q": query}))["results"])


def create_workflow(client: httpx.Client, name: str, steps: list[dict[str, Any]]) -> int:
    """Create a workflow definition over HTTP; its id."""
    return int(ok(client.post("/api/v1/workflows", json={"name": name, "steps": steps}), 201)["id"])


SEARCHES = [
    ("/api/v1/media/search", "orbit"),
    ("/api/v1/media/search", "moon OR tide*"),
    ("/api/v1/media/search", '"red planet"'),
    ("/api/v1/media/search", "planet -mars"),
    ("/api/v1/chats/messages/search", "telescope"),
    ("/api/v1/claims/search", "gravity"),
]
#: Searched in every snapshot besides SEARCHES (notes search answers a list of notes).
NOTE_SEARCH = "launch"


def populate(client: httpx.Client) -> None:
    docs = [
        (
            "The Moon",
            "The moon is in orbit around the earth and drives the tides.",
            ["space", "Moon"],
        ),
        ("Mars", "Mars is the red planet. Its orbit is longer than ours.", ["space", "planets"]),
        ("Jupiter", "A gas giant planet with many moons.", ["planets"]),
        ("Tides", "Tidal forces come from gravity.", ["ocean"]),
        ("Gone", "A deleted planet note about orbit.", []),
    ]
    for title, content, keywords in docs:
        add_media(client, title, content, keywords)
    ok(
        client.put(
            "/api/v1/media/2",
            json={"content": "Mars is the red planet. Its orbit takes 687 days."},
        )
    )
    assert client.delete("/api/v1/media/5").status_code == 204  # to the trash
    ok(
        client.post(
            "/api/v1/media/4/claims",
            json={"claims": [{"claim_text": "Tides are caused by gravity", "confidence": 0.8}]},
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/notes/",
            json={"title": "Launch plan", "content": "launch at dawn", "keywords": ["work"]},
        ),
        201,
    )
    ok(client.post("/api/v1/notes/", json={"title": "Groceries", "content": "bread"}), 201)
    character = ok(client.post("/api/v1/characters/", json={"name": "Astronomer"}), 201)
    chat = ok(
        client.post(
            "/api/v1/chats/", json={"title": "Stargazing", "character_id": character["id"]}
        ),
        201,
    )
    for role, text in [
        ("user", "Which telescope should I buy?"),
        ("assistant", "A small refractor telescope is a good start."),
        ("user", "Thanks!"),
    ]:
        ok(
            client.post(
                f"/api/v1/chats/{chat['id']}/messages", json={"role": role, "content": text}
            ),
            201,
        )
    workflow = ok(
        client.post(
            "/api/v1/workflows",
            json={
                "name": "greet",
                "steps": [
                    {
                        "id": "s1",
                        "name": "Log",
                        "type": "log",
                        "config": {"message": "hello {{ inputs.who }}"},
                    }
                ],
            },
        ),
        201,
    )
    run = ok(
        client.post(
            f"/api/v1/workflows/{workflow['id']}/run",
            params={"mode": "sync", "timeout": 20},
            json={"inputs": {"who": "a"}},
        )
    )
    assert run["run"]["status"] == "succeeded", run


def snapshot(client: httpx.Client) -> dict[str, Any]:
    """Everything a user can read, as JSON (search ranks left out: their scales differ)."""
    state: dict[str, Any] = {}
    media = ok(client.get("/api/v1/media/", params={"results_per_page": 1000}))
    state["media_list"] = media
    for item in media["items"]:
        i = item["id"]
        state[f"media/{i}"] = ok(client.get(f"/api/v1/media/{i}"))
        state[f"media/{i}/versions"] = ok(
            client.get(f"/api/v1/media/{i}/versions", params={"limit": 100})
        )
        state[f"media/{i}/claims"] = ok(client.get(f"/api/v1/claims/{i}"))
    state["media/5"] = client.get("/api/v1/media/5").status_code  # trashed: 404
    state["media trash"] = ok(client.get("/api/v1/media/trash"))
    state["keywords"] = ok(client.get("/api/v1/media/keywords"))
    notes = ok(client.get("/api/v1/notes/", params={"include_keywords": "true"}))
    state["notes"] = notes
    for note in notes["items"]:
        state[f"note/{note['id']}"] = ok(client.get(f"/api/v1/notes/{note['id']}"))
    state["note keywords"] = ok(client.get("/api/v1/notes/keywords"))
    state["characters"] = ok(client.get("/api/v1/characters/"))
    chats = ok(client.get("/api/v1/chats/"))
    state["chats"] = chats
    for chat in chats["chats"]:
        messages = ok(client.get(f"/api/v1/chats/{chat['id']}/messages"))
        messages["messages"].sort(key=lambda m: (m["timestamp"], m["id"]))
        state[f"chat/{chat['id']}/messages"] = messages
    found_notes = ok(client.get("/api/v1/notes/search", params={"query": NOTE_SEARCH}))
    state[f"search notes {NOTE_SEARCH}"] = sorted(found_notes, key=lambda n: n["id"])
    runs = ok(client.get("/api/v1/workflows/runs"))
    state["workflow_runs"] = runs
    for run in runs["runs"]:
        state[f"run/{run['run_id']}/steps"] = ok(
            client.get(f"/api/v1/workflows/runs/{run['run_id']}/steps")
        )
    for path, query in SEARCHES:
        found = search(client, path, query)
        # Both backends find the same rows and put title hits first; within those groups
        # the order follows each engine's own rank (bm25 / ts_rank), which may differ.
        title_hits = [bool(h.get("title_hit")) for h in found]
        assert title_hits == sorted(title_hits, reverse=True)
        for hit in found:
            hit.pop("rank", None)
            hit.pop("relevance_score", None)
        found.sort(key=lambda h: (not h.get("title_hit"), str(h["id"])))
        state[f"search {path} {query}"] = found
    return state


def test_cutover_from_sqlite_to_postgresql(tmp_path: Path, pg_server: PgTarget) -> None:
    data_dir = tmp_path / "Databases"

    # 1. On SQLite.
    with server(tmp_path, "sqlite.log") as (client, log_path):
        populate(client)
        before = snapshot(client)
        searches_before = ok(client.get("/api/v1/analytics/summary"))["searches"]
    assert before["media_list"]["pagination"]["total"] == 4 and before["media/5"] == 404
    assert [item["id"] for item in before["media trash"]["items"]] == [5]
    assert sorted(h["id"] for h in before["search /api/v1/media/search orbit"]) == [1, 2]
    assert "SQLite at" in log_path.read_text()

    # 2. Migrate, with the guide's command.
    user_dir = data_dir / "user_databases" / "1"
    with fresh_database(pg_server) as target:
        pg_env = server_pg_env(target)
        migrate_env = clean_env(tmp_path)
        if target.password is not None:
            migrate_env["PGPASSWORD"] = target.password.get_secret_value()
        migration = subprocess.run(
            [
                sys.executable,
                "-m",
                "tldw_Server_API.app.core.DB_Management.migration_tools",
                "--content-sqlite",
                str(user_dir / "Media_DB_v2.db"),
                "--chacha-sqlite",
                str(user_dir / "ChaChaNotes.db"),
                "--analytics-sqlite",
                str(data_dir / "Analytics.db"),
                "--workflows-sqlite",
                str(data_dir / "workflows.db"),
                "--pg-host",
                target.host,
                "--pg-port",
                str(target.port),
                "--pg-user",
                target.user,
                "--pg-database",
                target.database,
                "--create-schema",
                "--quiet",
            ],
            cwd=tmp_path,
            env=migrate_env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert migration.returncode == 0, migration.stdout + migration.stderr

        # 3. On PostgreSQL.
        with server(tmp_path, "postgres.log", **pg_env) as (client, log_path):
            log = log_path.read_text()
            for name in DATABASES:
                assert re.search(rf"{name}: PostgreSQL at \S+/{target.database} ", log), log
            assert "SQLite at" not in log and KEY not in log

            after = snapshot(client)
            assert after.keys() == before.keys()
            for key in before:
                assert after[key] == before[key], key

            # Restored deleted rows come back too.
            assert ok(client.post("/api/v1/media/5/restore"))["source"]["title"] == "Gone"

            # New writes take the next ids: the sequences were resynced.
            assert add_media(client, "Venus", "A hot planet in orbit.", ["space"]) == 6
            claim = ok(
                client.post(
                    "/api/v1/media/6/claims", json={"claims": [{"claim_text": "Venus is hot"}]}
                ),
                201,
            )
            assert claim["claims"][0]["id"] == 2
            version = ok(
                client.post(
                    "/api/v1/media/6/versions",
                    json={"content": "v2", "prompt": "p", "analysis_content": "a"},
                ),
                201,
            )
            assert [v["version_number"] for v in version["versions"]] == [1, 2]
            character = ok(client.post("/api/v1/characters/", json={"name": "Pilot"}), 201)
            assert character["id"] == 2
            updated = ok(client.put("/api/v1/media/1", json={"title": "The Moon (edited)"}))
            assert updated["source"]["title"] == "The Moon (edited)"
            note = ok(
                client.post("/api/v1/notes/", json={"title": "Orbit notes", "content": "new"}), 201
            )
            chat_id = before["chats"]["chats"][0]["id"]
            ok(
                client.post(
                    f"/api/v1/chats/{chat_id}/messages",
                    json={"role": "user", "content": "Another telescope question"},
                ),
                201,
            )

            found = search(client, "/api/v1/media/search", "orbit")
            assert sorted(h["id"] for h in found) == [1, 2, 5, 6]
            assert [
                h["id"] for h in ok(client.get("/api/v1/notes/search", params={"query": "orbit"}))
            ] == [note["id"]]
            assert (
                len(
                    ok(client.get("/api/v1/chats/messages/search", params={"q": "telescope"}))[
                        "results"
                    ]
                )
                == 3
            )
            # The old search records came along: 7 in the snapshot and 3 above are new.
            summary = ok(client.get("/api/v1/analytics/summary"))
            assert summary["searches"] == searches_before + len(SEARCHES) + 1 + 3
            # The workflow runtime runs on PostgreSQL too.
            workflow_id = before["workflow_runs"]["runs"][0]["workflow_id"]
            run = ok(
                client.post(
                    f"/api/v1/workflows/{workflow_id}/run",
                    params={"mode": "sync", "timeout": 20},
                    json={"inputs": {"who": "b"}},
                )
            )
            assert run["run"]["status"] == "succeeded", run
            health = ok(client.get("/api/v1/health"))
            assert {d["backend"] for d in health["databases"]} == {"postgresql"}
