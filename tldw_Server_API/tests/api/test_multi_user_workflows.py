"""Workflows in multi-user mode: one user's key never reaches another user's workflows or runs.

Each test replays an attack as two users, alice and bob, with their own API keys, over the
app, on both backends.
"""

from __future__ import annotations

from typing import Any

from tldw_Server_API.tests.api.conftest import TestClient

WORKFLOWS = "/api/v1/workflows"
ALICES_INPUTS = {"iban": "DE89-SECRET-OF-A"}


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
