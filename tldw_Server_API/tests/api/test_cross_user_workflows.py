"""Every workflow resource of one user is out of another's reach: by id, by listing, by action.

Alice defines a private workflow and submits a run of it; Bob, with his own key on the same
server, tries each of her resources. Both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.tests.api.conftest import TestClient, multi_user_clients

WORKFLOWS = "/api/v1/workflows"
SECRET = "alpha-centauri-plans"
DEFINITION = {
    "name": "private-report",
    "steps": [
        {"id": "draft", "type": "prompt", "config": {"template": "draft {{ inputs.topic }}"}},
        {"id": "sign", "type": "wait_for_human", "config": {"prompt": "sign it?"}},
    ],
}


@pytest.fixture
def alices(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, Any]]:
    """(alice, bob, Alice's workflow and her queued run of it)."""
    with multi_user_clients(settings, tmp_path) as (alice, bob):
        workflow = alice.post(WORKFLOWS, json=DEFINITION).json()
        answer = alice.post(f"{WORKFLOWS}/{workflow['id']}/run", json={"inputs": {"topic": SECRET}})
        assert answer.status_code == 202, answer.text
        yield alice, bob, (workflow, answer.json()["run"])


@pytest.mark.parametrize(
    "path",
    [
        "{workflows}/{workflow_id}",
        "{workflows}/runs/{run_id}",
        "{workflows}/runs/{run_id}/steps",
        "{workflows}/runs/{run_id}/events",
        "{workflows}/runs/{run_id}/artifacts",
    ],
)
def test_another_users_resource_is_not_found_by_id(alices: Any, path: str) -> None:
    alice, bob, (workflow, run) = alices
    url = path.format(workflows=WORKFLOWS, workflow_id=workflow["id"], run_id=run["run_id"])
    assert alice.get(url).status_code == 200
    answer = bob.get(url)
    assert answer.status_code == 404
    assert SECRET not in answer.text


def test_another_users_runs_and_workflows_are_not_listed(alices: Any) -> None:
    alice, bob, (workflow, _) = alices
    assert alice.get(f"{WORKFLOWS}/runs").json()["total"] == 1
    assert bob.get(f"{WORKFLOWS}/runs").json()["total"] == 0
    queued = bob.get(f"{WORKFLOWS}/runs", params={"status": "queued"}).json()
    assert queued["runs"] == []
    by_workflow = bob.get(f"{WORKFLOWS}/runs", params={"workflow_id": workflow["id"]})
    assert by_workflow.json()["runs"] == []
    assert bob.get(WORKFLOWS).json()["workflows"] == []


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_another_users_run_cannot_be_decided_or_cancelled(alices: Any, action: str) -> None:
    alice, bob, (_, run) = alices
    answer = bob.post(f"{WORKFLOWS}/runs/{run['run_id']}/{action}", json={})
    assert answer.status_code == 404
    assert alice.get(f"{WORKFLOWS}/runs/{run['run_id']}").json()["status"] == "queued"


def test_another_users_private_workflow_cannot_be_run_or_deleted(alices: Any) -> None:
    alice, bob, (workflow, _) = alices
    assert bob.post(f"{WORKFLOWS}/{workflow['id']}/run", json={"inputs": {}}).status_code == 404
    assert bob.delete(f"{WORKFLOWS}/{workflow['id']}").status_code == 404
    assert alice.get(f"{WORKFLOWS}/{workflow['id']}").status_code == 200
    assert alice.get(f"{WORKFLOWS}/runs").json()["total"] == 1
