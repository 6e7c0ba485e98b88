"""The workflows HTTP API through FastAPI's TestClient, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime

from .conftest import api_client

GREET = {
    "name": "greet",
    "steps": [
        {
            "id": "hello",
            "type": "prompt",
            "config": {"template": "Hello {{ inputs.name }}", "artifact": "greeting"},
        },
        {"id": "log", "type": "log", "config": {"message": "{{ steps.hello.output.text }}"}},
    ],
}
REVIEW = {
    "name": "review",
    "steps": [
        {"id": "ask", "type": "wait_for_human", "config": {"prompt": "ok?"}},
        {"id": "after", "type": "log", "config": {"message": "{{ steps.ask.output.comment }}"}},
    ],
}


@pytest.fixture
def client(registry: DatabaseRegistry, runtime: WorkflowRuntime) -> Iterator[TestClient]:
    with api_client(registry) as test_client:
        yield test_client


def _create(client: TestClient, document: dict[str, Any], user: str = "1") -> dict[str, Any]:
    response = client.post("/api/v1/workflows", json=document, headers={"X-User": user})
    assert response.status_code == 201, response.text
    return response.json()


def _run_sync(client: TestClient, workflow_id: int, inputs: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/workflows/{workflow_id}/run?mode=sync&timeout=30", json={"inputs": inputs}
    )
    assert response.status_code == 200, response.text
    return response.json()["run"]


def test_create_get_and_list_definitions(client: TestClient) -> None:
    first = _create(client, GREET)
    second = _create(client, GREET | {"description": "v2"})

    assert (first["version"], second["version"]) == (1, 2)
    fetched = client.get(f"/api/v1/workflows/{first['id']}").json()
    assert fetched["definition"]["steps"][0]["config"]["template"] == "Hello {{ inputs.name }}"
    listed = client.get("/api/v1/workflows").json()["workflows"]
    assert [(w["name"], w["version"]) for w in listed] == [("greet", 2)]
    every = client.get("/api/v1/workflows?all_versions=true").json()["workflows"]
    assert [w["version"] for w in every] == [2, 1]


def test_invalid_definition_is_422_with_every_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/workflows",
        json={
            "name": "bad",
            "steps": [{"id": "a", "type": "nope"}, {"id": "b", "type": "delay", "config": {}}],
        },
    )

    assert response.status_code == 422
    body = response.json()
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "steps", 0, "type"], "unknown_step_type"),
        (["body", "steps", 1, "config", "seconds"], "missing"),
    ]
    assert body["errors"][0]["msg"].startswith("unknown step type 'nope'")
    assert body["detail"].startswith("body.steps.0.type: unknown step type 'nope'")
    assert body["detail"].endswith("; body.steps.1.config.seconds: Field required")


def test_invalid_visibility_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/workflows", json=GREET | {"visibility": "everyone"})

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "visibility"]]


def test_sync_run_returns_the_result_and_its_records(client: TestClient) -> None:
    workflow = _create(client, GREET)

    run = _run_sync(client, workflow["id"], {"name": "Ann"})

    assert run["status"] == "succeeded"
    assert run["outputs"]["result"]["message"] == "Hello Ann"
    base = f"/api/v1/workflows/runs/{run['run_id']}"
    assert client.get(base).json()["status"] == "succeeded"
    steps = client.get(f"{base}/steps").json()["steps"]
    assert [(s["step_id"], s["status"]) for s in steps] == [
        ("hello", "succeeded"),
        ("log", "succeeded"),
    ]
    events = client.get(f"{base}/events").json()["events"]
    assert [e["event_seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["event_type"] == "run_completed"
    later = client.get(f"{base}/events?after_seq={len(events) - 1}").json()["events"]
    assert [e["event_type"] for e in later] == ["run_completed"]
    artifacts = client.get(f"{base}/artifacts").json()["artifacts"]
    assert [a["metadata"]["content"] for a in artifacts] == ["Hello Ann"]


def test_async_run_is_accepted_and_idempotent(client: TestClient) -> None:
    workflow = _create(client, GREET)
    url = f"/api/v1/workflows/{workflow['id']}/run"

    first = client.post(url, json={"inputs": {"name": "B"}}, headers={"Idempotency-Key": "k1"})
    again = client.post(url, json={"inputs": {"name": "C"}}, headers={"Idempotency-Key": "k1"})

    assert first.status_code == again.status_code == 202
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert first.json()["run"]["run_id"] == again.json()["run"]["run_id"]


def test_list_runs_filters_and_pages(client: TestClient) -> None:
    workflow = _create(client, GREET)
    for name in ("a", "b", "c"):
        _run_sync(client, workflow["id"], {"name": name})

    page = client.get("/api/v1/workflows/runs?status=succeeded&limit=2").json()
    rest = client.get("/api/v1/workflows/runs?status=succeeded&limit=2&offset=2").json()
    none = client.get("/api/v1/workflows/runs?status=failed,cancelled").json()

    assert page["total"] == 3 and len(page["runs"]) == 2 and len(rest["runs"]) == 1
    assert none["total"] == 0


def test_runs_are_private_to_their_user(client: TestClient) -> None:
    workflow = _create(client, GREET | {"visibility": "public"})
    run = _run_sync(client, workflow["id"], {"name": "x"})

    other = {"X-User": "2"}
    assert client.get(f"/api/v1/workflows/runs/{run['run_id']}", headers=other).status_code == 404
    assert client.get("/api/v1/workflows/runs", headers=other).json()["total"] == 0
    assert client.get(f"/api/v1/workflows/{workflow['id']}", headers=other).status_code == 200
    private = _create(client, GREET | {"name": "mine"})
    assert client.get(f"/api/v1/workflows/{private['id']}", headers=other).status_code == 404


def test_another_users_private_workflow_cannot_be_run(client: TestClient) -> None:
    private = _create(client, GREET | {"name": "mine"})

    response = client.post(
        f"/api/v1/workflows/{private['id']}/run", json={"inputs": {}}, headers={"X-User": "2"}
    )

    assert response.status_code == 404
    assert client.get("/api/v1/workflows/runs").json()["total"] == 0


def test_approve_resumes_a_waiting_run(client: TestClient, runtime: WorkflowRuntime) -> None:
    workflow = _create(client, REVIEW)
    run = _run_sync(client, workflow["id"], {})
    assert run["status"] == "waiting_human"

    response = client.post(
        f"/api/v1/workflows/runs/{run['run_id']}/approve", json={"comment": "ship it"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    finished = runtime.run_and_wait(run["run_id"], timeout=30)
    assert finished["status"] == "succeeded"
    assert finished["outputs"]["result"]["message"] == "ship it"


def test_reject_fails_a_waiting_run_and_decisions_need_a_waiting_run(client: TestClient) -> None:
    workflow = _create(client, REVIEW)
    run = _run_sync(client, workflow["id"], {})

    rejected = client.post(f"/api/v1/workflows/runs/{run['run_id']}/reject", json={"comment": "no"})
    twice = client.post(f"/api/v1/workflows/runs/{run['run_id']}/approve")

    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["error"]) == ("failed", "rejected by 1: no")
    assert twice.status_code == 409


def test_cancel_a_waiting_run(client: TestClient) -> None:
    workflow = _create(client, REVIEW)
    run = _run_sync(client, workflow["id"], {})

    cancelled = client.post(f"/api/v1/workflows/runs/{run['run_id']}/cancel")
    again = client.post(f"/api/v1/workflows/runs/{run['run_id']}/cancel")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    steps = client.get(f"/api/v1/workflows/runs/{run['run_id']}/steps").json()["steps"]
    assert [s["status"] for s in steps] == ["cancelled"]


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/workflows/999").status_code == 404
    assert client.post("/api/v1/workflows/999/run").status_code == 404
    assert client.get("/api/v1/workflows/runs/nope/events").status_code == 404


def test_status_reports_runtime_workers_queue_and_pool(
    client: TestClient, registry: DatabaseRegistry, runtime: WorkflowRuntime
) -> None:
    workflow = _create(client, GREET)
    _run_sync(client, workflow["id"], {"name": "x"})

    status = client.get("/api/v1/workflows/status").json()

    assert status["backend"] == registry.settings.content_db_backend
    assert status["runtime"]["alive"] is True
    assert status["runtime"]["heartbeat_age_seconds"] >= 0
    assert [w["worker_id"] for w in status["workers"]] == [runtime.worker_id]
    assert status["workers"][0]["last_heartbeat_at"]
    assert status["queue"] | {"oldest_queued_at": None} == {
        "queued": 0,
        "due": 0,
        "oldest_queued_at": None,
        "oldest_queued_age_seconds": None,
        "running": 0,
        "waiting": 0,
        "waiting_human": 0,
    }
    assert status["recent"]["succeeded"] == 1 and status["recent"]["failed"] == 0
    assert status["pool"]["configured"] == {"pool_size": 10, "max_overflow": 20, "timeout": 30.0}
    assert status["pool"]["applies"] is (registry.settings.content_db_backend == "postgresql")
    assert "checkedout" in status["pool"]["status"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workflows/99999999999999999999999",
        "/api/v1/workflows/runs?workflow_id=99999999999999999999999",
        "/api/v1/workflows/runs?offset=99999999999999999999",
        "/api/v1/workflows/0",
    ],
)
def test_out_of_range_ids_and_offsets_are_rejected_with_422(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 422
