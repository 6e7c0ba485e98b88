"""The app itself: start-up log, health, OpenAPI, the workflow runtime, the command line."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tldw_Server_API.app import cli
from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.factory import create_app
from tldw_Server_API.tests.api.conftest import AUTH, TestClient

LINE = re.compile(
    r"^(Media|ChaChaNotes|Analytics|Workflows|Users): (SQLite|PostgreSQL) at \S+.*, "
    r"schema version \d+ \((created|upgraded from version \d+|current)\)$"
)


def test_startup_logs_one_line_per_database(
    api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tldw_server")
    with TestClient(create_app(api_settings)):
        pass
    lines = [r.getMessage() for r in caplog.records if LINE.match(r.getMessage())]
    backend = "PostgreSQL" if api_settings.uses_postgres else "SQLite"
    assert [line.split(":")[0] for line in lines] == [
        "Media",
        "ChaChaNotes",
        "Analytics",
        "Workflows",
        "Users",
    ]
    assert all(f": {backend} at " in line for line in lines)
    assert all("(created)" in line for line in lines)
    if api_settings.uses_postgres:
        assert "(schema user_1_media)" in lines[0]
        password = api_settings.pg_password
        assert password is None or password.get_secret_value() not in caplog.text
    assert api_settings.single_user_api_key.get_secret_value() not in caplog.text  # type: ignore[union-attr]

    # A second start finds every database current.
    caplog.clear()
    with TestClient(create_app(api_settings)):
        pass
    assert sum("(current)" in r.getMessage() for r in caplog.records) == 5


def test_health_and_openapi(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"X-API-KEY": ""})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert [d["name"] for d in body["databases"]] == [
        "Media",
        "ChaChaNotes",
        "Analytics",
        "Workflows",
        "Users",
    ]
    for database in body["databases"]:
        assert database["ok"] is True and database["backend"] == body["backend"]
        assert database["schema_version"] >= 1
    assert "127.0.0.1" not in response.text and "/tmp" not in response.text

    # OpenAPI lists every route.
    paths = client.get("/openapi.json").json()["paths"]
    for path in [
        "/api/v1/media/",
        "/api/v1/media/add",
        "/api/v1/media/{media_id}",
        "/api/v1/media/search",
        "/api/v1/media/trash",
        "/api/v1/media/keywords",
        "/api/v1/media/{media_id}/keywords",
        "/api/v1/media/{media_id}/permanent",
        "/api/v1/media/{media_id}/claims",
        "/api/v1/claims/{media_id}",
        "/api/v1/claims/search",
        "/api/v1/media/{media_id}/versions",
        "/api/v1/notes/",
        "/api/v1/notes/{note_id}/restore",
        "/api/v1/notes/search",
        "/api/v1/notes/{note_id}/keywords/{keyword_id}",
        "/api/v1/characters/",
        "/api/v1/characters/query",
        "/api/v1/chats/",
        "/api/v1/chats/{chat_id}/messages",
        "/api/v1/chats/{chat_id}/messages/search",
        "/api/v1/chats/messages/search",
        "/api/v1/messages/{message_id}",
        "/api/v1/analytics/summary",
        "/api/v1/health",
        "/api/v1/workflows/status",
    ]:
        assert path in paths, path


def test_health_reports_a_database_that_does_not_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    analytics = client.app.state.registry.analytics()  # type: ignore[attr-defined]

    @contextmanager
    def broken(*, write: bool = True) -> Iterator[None]:
        raise ConnectionError("gone")
        yield

    monkeypatch.setattr(analytics, "begin", broken)
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    states = {d["name"]: d["ok"] for d in response.json()["databases"]}
    assert states == {
        "Media": True,
        "ChaChaNotes": True,
        "Analytics": False,
        "Workflows": True,
        "Users": True,
    }


def test_workflow_runtime_runs_in_a_worker_process_by_default() -> None:
    assert Settings.model_fields["workflow_worker_mode"].default == "process"


def test_workflow_runtime_in_threads_starts_and_stops(api_settings: Settings) -> None:
    settings = api_settings.model_copy(
        update={"workflow_workers": 1, "workflow_worker_mode": "thread"}
    )
    app = create_app(settings)
    with TestClient(app) as client:
        runtime = app.state.workflow_runtime
        assert runtime is not None and runtime.running
        status = client.get("/api/v1/workflows/status", headers=AUTH)
        assert status.status_code == 200, status.text
    assert not runtime.running


def test_workflow_runtime_in_a_worker_process_runs_submitted_workflows(
    api_settings: Settings,
) -> None:
    settings = api_settings.model_copy(
        update={"workflow_workers": 1, "workflow_worker_mode": "process"}
    )
    app = create_app(settings)
    definition = {
        "name": "in-a-process",
        "steps": [{"id": "hello", "type": "log", "config": {"message": "hi"}}],
    }
    with TestClient(app) as client:
        created = client.post("/api/v1/workflows", json=definition, headers=AUTH)
        assert created.status_code == 201, created.text
        run = client.post(f"/api/v1/workflows/{created.json()['id']}/run", headers=AUTH)
        assert run.status_code in (200, 202), run.text
        run_id = run.json()["run"]["run_id"]
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline and state != "succeeded":
            state = client.get(f"/api/v1/workflows/runs/{run_id}", headers=AUTH).json()["status"]
            time.sleep(0.2)
        assert state == "succeeded"
        process = app.state.workflow_runtime._process
    assert process.poll() is not None  # stopped with the server


def test_configuration_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.setenv("TLDW_CONFIG_FILE", str(tmp_path / "none.txt"))
    monkeypatch.setenv("TLDW_PG_PORT", "not-a-port")
    assert cli.run([]) == 2
    assert "TLDW_PG_PORT" in capsys.readouterr().err

    monkeypatch.delenv("TLDW_PG_PORT")
    monkeypatch.setenv("TLDW_AUTH_MODE", "multi_user")
    assert cli.run([]) == 2
    assert "TLDW_API_KEYS_FILE" in capsys.readouterr().err

    monkeypatch.setenv("TLDW_AUTH_MODE", "single_user")
    monkeypatch.setenv("TLDW_MAX_REQUEST_BYTES", "12")
    assert cli.run([]) == 2
    assert "TLDW_MAX_REQUEST_BYTES" in capsys.readouterr().err


def test_command_line_flags() -> None:
    args = cli.build_parser().parse_args(["--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--port", "70000"])
