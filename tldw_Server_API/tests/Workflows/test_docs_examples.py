"""docs/workflows.md: every example definition is stored and run by the real server.

An example is a fenced ```json block right after a ``<!-- example -->`` line. Each is posted
to a started app on SQLite (workers in threads) and run with ``?mode=sync`` until it has
finished or waits for a decision; a waiting one is then approved and must finish. Webhook
URLs are pointed at a local HTTP server (the docs use a public address), which the test
settings' outbound policy admits.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tldw_Server_API.app.core.Workflows.steps import STEP_TYPES
from tldw_Server_API.app.main import create_app
from tldw_Server_API.tests.conftest import Recorder, settings_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's notice about its TestClient's httpx
    from fastapi.testclient import TestClient

DOC = Path(__file__).resolve().parents[3] / "docs" / "workflows.md"
MARKER = "<!-- example -->"
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.DOTALL | re.MULTILINE)
API_KEY = "docs-examples-key-0123456789"
API = "/api/v1/workflows"
WAITING = ("waiting_human", "waiting_approval")
SETTLE_SECONDS = 60


def json_blocks(text: str) -> list[tuple[bool, str]]:
    """(marked as an example, body) of every ```json block of *text*."""
    blocks = []
    for match in JSON_BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((before.strip() == MARKER, match.group(1)))
    return blocks


def doc_examples() -> list[dict[str, Any]]:
    return [json.loads(body) for marked, body in json_blocks(DOC.read_text("utf-8")) if marked]


EXAMPLES = doc_examples()
AWAITING_TYPES = {name for name, step in STEP_TYPES.items() if step.awaits_decision}
WAITING_EXAMPLES = [e for e in EXAMPLES if {s["type"] for s in e["steps"]} & AWAITING_TYPES]


def example_id(example: dict[str, Any]) -> str:
    return str(example["name"])


def with_webhooks_to(example: dict[str, Any], url: str) -> dict[str, Any]:
    """*example* with every webhook step's URL replaced by *url*."""
    local = deepcopy(example)
    for step in local["steps"]:
        if step["type"] == "webhook":
            step["config"]["url"] = url
    return local


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real app on a fresh SQLite installation, with two in-process workflow workers."""
    settings = settings_for("sqlite", tmp_path_factory.mktemp("docs") / "Databases").model_copy(
        update={
            "single_user_api_key": SecretStr(API_KEY),
            "workflow_workers": 2,
            "workflow_worker_mode": "thread",
            "outbound_allow": ("127.0.0.1",),
        }
    )
    with TestClient(create_app(settings)) as client:
        client.headers["X-API-KEY"] = API_KEY
        yield client


def run_example(
    client: TestClient,
    example: dict[str, Any],
    http_server: Callable[[list[int]], tuple[str, Recorder]],
) -> dict[str, Any]:
    """Store *example*, run it synchronously, and return the settled run."""
    url, _ = http_server([])
    created = client.post(API, json=with_webhooks_to(example, url))
    assert created.status_code == 201, created.text
    answer = client.post(
        f"{API}/{created.json()['id']}/run", params={"mode": "sync", "timeout": SETTLE_SECONDS}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["run"])


def wait_until_finished(client: TestClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        run = dict(client.get(f"{API}/runs/{run_id}").json())
        if run["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def is_definition(body: str) -> bool:
    """A JSON block that is a workflow definition (not, say, an error naming its steps)."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return '"steps": [' in body
    return isinstance(parsed, dict) and isinstance(parsed.get("steps"), list)


def test_every_definition_in_the_doc_is_a_marked_example() -> None:
    blocks = json_blocks(DOC.read_text("utf-8"))
    unmarked = [body for marked, body in blocks if is_definition(body) and not marked]
    assert unmarked == []


def test_the_examples_use_every_step_type() -> None:
    used = {step["type"] for example in EXAMPLES for step in example["steps"]}
    assert used == set(STEP_TYPES)


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_example_runs_to_success_or_a_decision(
    app_client: TestClient,
    example: dict[str, Any],
    http_server: Callable[[list[int]], tuple[str, Recorder]],
) -> None:
    run = run_example(app_client, example, http_server)
    expected = WAITING if example in WAITING_EXAMPLES else ("succeeded",)
    assert run["status"] in expected, run["error"]


@pytest.mark.parametrize("example", WAITING_EXAMPLES, ids=example_id)
def test_waiting_example_succeeds_once_approved(
    app_client: TestClient,
    example: dict[str, Any],
    http_server: Callable[[list[int]], tuple[str, Recorder]],
) -> None:
    run = run_example(app_client, example, http_server)
    approved = app_client.post(f"{API}/runs/{run['run_id']}/approve", json={"comment": "ok"})
    assert approved.status_code == 200, approved.text
    finished = wait_until_finished(app_client, run["run_id"])
    assert finished["status"] == "succeeded", finished["error"]
