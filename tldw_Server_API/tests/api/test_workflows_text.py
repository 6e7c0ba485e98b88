"""Text a database cannot store (NUL, lone surrogates) in workflow requests is the same 422 on
both backends, naming the field, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tldw_Server_API.tests.api.conftest import TestClient

WORKFLOWS = "/api/v1/workflows"
STEP = {"id": "note", "type": "log", "config": {"message": "hi"}}
UNSTORABLE = {"NUL": "a\u0000b", "surrogate": "a\ud800b"}


def post_raw(client: TestClient, path: str, body: Any) -> Any:
    """POST *body* as JSON with every non-ASCII character escaped (``"\\ud800"``), as a client
    that sends a lone surrogate does."""
    content = json.dumps(body, ensure_ascii=True).encode("ascii")
    return client.post(path, content=content, headers={"Content-Type": "application/json"})


def assert_refused(response: Any, loc: list[Any], *, in_msg: str = "") -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [loc], errors
    assert ("NUL" in errors[0]["msg"]) or ("surrogates" in errors[0]["msg"]), errors
    assert in_msg in errors[0]["msg"]


def definition(client: TestClient) -> int:
    response = client.post(WORKFLOWS, json={"name": "text", "steps": [STEP]})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
def test_a_description_it_cannot_store_is_refused(client: TestClient, kind: str) -> None:
    body = {"name": "text", "description": UNSTORABLE[kind], "steps": [STEP]}

    assert_refused(post_raw(client, WORKFLOWS, body), ["body", "description"])
    assert client.get(WORKFLOWS).json()["workflows"] == []


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
def test_a_step_config_it_cannot_store_is_refused_naming_the_path(
    client: TestClient, kind: str
) -> None:
    step = STEP | {"config": {"message": UNSTORABLE[kind]}}

    response = post_raw(client, WORKFLOWS, {"name": "text", "steps": [step]})

    assert_refused(response, ["body", "steps"], in_msg="0.config.message")
    assert client.get(WORKFLOWS).json()["workflows"] == []


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
def test_run_inputs_it_cannot_store_are_refused(client: TestClient, kind: str) -> None:
    workflow_id = definition(client)

    response = post_raw(
        client, f"{WORKFLOWS}/{workflow_id}/run", {"inputs": {"iban": UNSTORABLE[kind]}}
    )

    assert_refused(response, ["body", "inputs", "iban"])
    assert client.get(f"{WORKFLOWS}/runs").json()["total"] == 0


@pytest.mark.parametrize("kind", sorted(UNSTORABLE))
def test_an_input_name_it_cannot_store_is_refused(client: TestClient, kind: str) -> None:
    workflow_id = definition(client)

    response = post_raw(client, f"{WORKFLOWS}/{workflow_id}/run", {"inputs": {UNSTORABLE[kind]: 1}})

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"][:2] == ["body", "inputs"]
    assert error["loc"][-1] == "[key]"
    assert client.get(f"{WORKFLOWS}/runs").json()["total"] == 0


def test_storable_text_everywhere_is_accepted(client: TestClient) -> None:
    body = {"name": "text", "description": "Ünïcode 👋", "steps": [STEP]}
    workflow_id = post_raw(client, WORKFLOWS, body).json()["id"]

    response = post_raw(client, f"{WORKFLOWS}/{workflow_id}/run", {"inputs": {"emoji": "👋"}})

    assert response.status_code == 202, response.text
    assert response.json()["run"]["inputs"] == {"emoji": "👋"}
