"""Workflows in multi-user mode: one user's key never reaches another user's workflows or runs.

Each test replays an attack as two users, alice and bob, with their own API keys, over the
app, on both backends.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.tests.api.conftest import TestClient, multi_user_clients
from tldw_Server_API.tests.conftest import Recorder

WORKFLOWS = "/api/v1/workflows"
ALICES_INPUTS = {"iban": "DE89-SECRET-OF-A"}
Clients = tuple[TestClient, TestClient]


def define(client: TestClient, name: str = "payroll", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "steps": [{"id": "note", "type": "log", "config": {"message": "hi"}}]}
    response = client.post(WORKFLOWS, json=body | extra)
    assert response.status_code == 201, response.text
    return response.json()


def run(client: TestClient, workflow_id: int, **kwargs: Any) -> dict[str, Any]:
    response = client.post(f"{WORKFLOWS}/{workflow_id}/run", **kwargs)
    assert response.status_code == 202, response.text
    return response.json()


# -- idempotency keys are per user -------------------------------------------------------------


def test_another_users_idempotency_key_gives_a_new_run_of_ones_own(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    alices_run = run(
        alice,
        define(alice)["id"],
        json={"inputs": ALICES_INPUTS, "idempotency_key": "payroll-2026-12"},
    )["run"]
    bobs_workflow = define(bob, "bobs-report")["id"]

    answer = run(bob, bobs_workflow, json={"idempotency_key": "payroll-2026-12"})

    assert answer["created"] is True
    assert answer["run"]["run_id"] != alices_run["run_id"]
    assert answer["run"]["user_id"] == "bob"
    assert answer["run"]["workflow_id"] == bobs_workflow
    assert "DE89-SECRET-OF-A" not in str(answer)


def test_another_users_idempotency_key_header_gives_a_new_run_of_ones_own(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    key = {"Idempotency-Key": "payroll-2026-12"}
    alices_run = run(alice, define(alice)["id"], json={"inputs": ALICES_INPUTS}, headers=key)
    bobs_workflow = define(bob, "bobs-report")["id"]

    answer = run(bob, bobs_workflow, headers=key)

    assert answer["created"] is True
    assert answer["run"]["run_id"] != alices_run["run"]["run_id"]
    assert "DE89-SECRET-OF-A" not in str(answer)


def test_a_key_used_first_by_another_user_still_creates_ones_run(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    bobs_run = run(bob, define(bob, "bobs-report")["id"], json={"idempotency_key": "k-1"})
    alices_workflow = define(alice)["id"]

    answer = run(alice, alices_workflow, json={"inputs": ALICES_INPUTS, "idempotency_key": "k-1"})

    assert answer["created"] is True
    assert answer["run"]["run_id"] != bobs_run["run"]["run_id"]
    assert answer["run"]["inputs"] == ALICES_INPUTS
    again = run(alice, alices_workflow, json={"idempotency_key": "k-1"})
    assert again["created"] is False
    assert again["run"]["run_id"] == answer["run"]["run_id"]
    assert alice.get(f"{WORKFLOWS}/runs").json()["total"] == 1
    assert bob.get(f"{WORKFLOWS}/runs").json()["total"] == 1


# -- names and versions are per owner ------------------------------------------------------------


def names(client: TestClient) -> list[tuple[str, str, int]]:
    listed = client.get(WORKFLOWS).json()["workflows"]
    return [(w["name"], w["owner_id"], w["version"]) for w in listed]


def test_another_user_taking_ones_name_starts_their_own_version_1(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    alices = define(alice)

    bobs = define(bob)

    assert (alices["version"], bobs["version"]) == (1, 1)
    assert bobs["id"] != alices["id"]
    assert names(alice) == [("payroll", "alice", 1)]
    assert names(bob) == [("payroll", "bob", 1)]
    assert alice.get(f"{WORKFLOWS}/{alices['id']}").json()["owner_id"] == "alice"
    assert bob.get(f"{WORKFLOWS}/{alices['id']}").status_code == 404


def test_ones_own_name_again_is_ones_next_version(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    define(bob)
    define(alice)

    again = define(alice)

    assert again["version"] == 2
    assert names(alice) == [("payroll", "alice", 2)]
    all_versions = alice.get(WORKFLOWS, params={"all_versions": True}).json()["workflows"]
    assert [(w["owner_id"], w["version"]) for w in all_versions] == [("alice", 2), ("alice", 1)]


def test_a_public_definition_is_listed_for_everyone_under_its_owner(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    shared = define(alice, visibility="public")
    define(bob)

    assert names(bob) == [("payroll", "alice", 1), ("payroll", "bob", 1)]
    assert names(alice) == [("payroll", "alice", 1)]
    assert run(bob, shared["id"])["run"]["user_id"] == "bob"


# -- server-side request forgery through a webhook step -----------------------------------------


@pytest.fixture
def with_workers(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Clients]]:
    """Start a multi-user app whose runtime executes runs (one worker thread), with the given
    ``outbound_allow``; returns (alice, bob)."""
    with ExitStack() as stack:

        def start(*allow: str) -> Clients:
            extra = {
                "workflow_workers": 1,
                "workflow_worker_mode": "thread",
                "outbound_allow": allow,
            }
            return stack.enter_context(multi_user_clients(settings, tmp_path, **extra))

        yield start


@pytest.fixture
def admin_page(http_server: Callable[[list[int]], tuple[str, Recorder]]) -> tuple[str, Recorder]:
    """A loopback 'internal admin' service: its base URL and what it received."""
    url, recorder = http_server([])
    return url.rsplit("/", 1)[0], recorder


def run_webhook(client: TestClient, url: str, name: str) -> dict[str, Any]:
    """Define a webhook workflow to *url* (retried up to 3 times) and run it to its end."""
    step = {"id": "hook", "type": "webhook", "config": {"url": url}, "retry": {"max_attempts": 3}}
    workflow_id = client.post(WORKFLOWS, json={"name": name, "steps": [step]}).json()["id"]
    response = client.post(f"{WORKFLOWS}/{workflow_id}/run?mode=sync&timeout=60", json={})
    assert response.status_code == 200, response.text
    return response.json()["run"]


def test_a_webhook_to_a_loopback_service_is_refused_and_delivers_nothing(
    with_workers: Callable[..., Clients], admin_page: tuple[str, Recorder]
) -> None:
    alice, _ = with_workers()
    base, asked = admin_page

    run = run_webhook(alice, f"{base}/internal/admin", "ssrf")

    assert run["status"] == "failed"
    assert run["error"] == "step 'hook' failed: blocked by the outbound policy"
    assert asked.requests == []
    steps = alice.get(f"{WORKFLOWS}/runs/{run['run_id']}/steps").json()["steps"]
    assert len(steps) == 1, "a refusal is never retried"
    assert steps[0]["outputs"] == {"final": True, "error": "blocked by the outbound policy"}


def test_a_closed_port_answers_like_an_open_one(
    with_workers: Callable[..., Clients], admin_page: tuple[str, Recorder]
) -> None:
    alice, _ = with_workers()
    base, _ = admin_page
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/internal/admin"

    errors = [run_webhook(alice, url, f"scan-{i}")["error"] for i, url in enumerate([base, closed])]

    assert errors[0] == errors[1] == "step 'hook' failed: blocked by the outbound policy"


def test_an_address_the_admin_allows_is_delivered_to(
    with_workers: Callable[..., Clients], admin_page: tuple[str, Recorder]
) -> None:
    _, bob = with_workers("127.0.0.1")
    base, asked = admin_page

    run = run_webhook(bob, f"{base}/hook", "allowed")

    assert run["status"] == "succeeded", run["error"]
    assert [r["path"] for r in asked.requests] == ["/hook"]
    assert run["outputs"]["result"]["body"] == {"ok": True, "seen": 1}
