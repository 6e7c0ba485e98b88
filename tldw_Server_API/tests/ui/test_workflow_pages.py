"""The Workflows pages in a real browser, on both backends: a run started from its form
and followed live, and a run waiting for approval approved from its page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import BOB_KEY, UiServer, api, expect, screenshot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

RUN_PAGE = re.compile(r"/workflows/runs/[0-9a-f-]{36}$")
#: Shown as typed, never run: the pages escape user content.
SCRIPT_NAME = "<script>alert(1)</script>"
#: How long (ms) a page may wait for the worker to move a run on: long, for a loaded machine.
WORKER_WAIT = 60_000


def publish_definition(name: str) -> dict[str, Any]:
    """A workflow that drafts a text (kept as an artifact), waits for approval, then logs."""
    return {
        "name": name,
        "description": "Draft, approve, publish",
        "inputs": {"title": "spring newsletter", "copies": 2},
        "steps": [
            {
                "id": "draft",
                "type": "prompt",
                "config": {"template": "Draft of {{ inputs.title }}", "artifact": "draft"},
            },
            {"id": "approve", "type": "wait_for_approval", "config": {"prompt": "Publish?"}},
            {"id": "post", "type": "log", "config": {"message": "published {{ inputs.copies }}"}},
        ],
    }


def test_a_run_started_from_the_page_is_followed_live(page: Any, server: UiServer) -> None:
    created = api(server, "POST", "/api/v1/workflows", json=publish_definition(SCRIPT_NAME))
    sign_in(page, server)
    page.click("nav >> text=Workflows")
    page.wait_for_url(f"{server.base_url}/workflows")
    listed = page.locator(f'#workflows li[data-workflow="{created["id"]}"]')
    expect(listed.locator(".title")).to_have_text(SCRIPT_NAME)
    assert listed.locator("ol.steps li code").all_inner_texts() == ["draft", "approve", "post"]
    screenshot(page, server, "workflows")
    listed.locator("text=Run…").click()
    # The form is made of the definition's inputs, filled with their defaults.
    expect(page.get_by_label("title")).to_have_value("spring newsletter")
    page.get_by_label("copies").fill("not json")
    page.click("#run-form button")
    expect(page.locator("#run-error")).to_contain_text("copies: not JSON")
    page.get_by_label("copies").fill('"a\\u0000b"')  # JSON for a text no database stores
    page.click("#run-form button")
    expect(page.locator("#run-error")).to_contain_text("copies")
    page.get_by_label("title").fill("autumn issue")
    page.get_by_label("copies").fill("3")
    page.click("#run-form button")
    page.wait_for_url(RUN_PAGE)
    run_id = page.url.rsplit("/", 1)[1]
    assert api(server, "GET", f"/api/v1/workflows/runs/{run_id}")["inputs"] == {
        "title": "autumn issue",
        "copies": 3,
    }
    # The page marks itself: a reload would lose the mark.
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#run-status")).to_have_text("waiting_approval", timeout=WORKER_WAIT)
    expect(page.locator("#decision")).to_be_visible()
    expect(page.locator("#run-artifacts tbody tr")).to_have_count(1)
    # Another client approves: the page follows the run to its end by itself.
    api(server, "POST", f"/api/v1/workflows/runs/{run_id}/approve", json={"comment": "ok"})
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=WORKER_WAIT)
    expect(page.locator("#decision")).to_be_hidden()
    expect(page.locator("#cancel-form")).to_be_hidden()
    expect(page.locator("#run-outputs")).to_contain_text("published 3")
    steps = page.locator("#run-steps tbody tr td:first-child").all_inner_texts()
    assert steps == ["draft", "approve", "post"]
    assert page.evaluate("window.notReloaded") is True
    events = page.locator("#run-events tbody tr td:first-child").all_inner_texts()
    assert [int(seq) for seq in events] == list(range(1, len(events) + 1))
    screenshot(page, server, "workflow-run")


def test_a_waiting_run_is_approved_from_its_page(page: Any, server: UiServer) -> None:
    created = api(server, "POST", "/api/v1/workflows", json=publish_definition("approval"))
    queued = api(server, "POST", f"/api/v1/workflows/{created['id']}/run", json={"inputs": {}})
    run_id = queued["run"]["run_id"]
    sign_in(page, server)
    page.goto(f"{server.base_url}/workflows/runs")
    page.click(f'#runs tr[data-run="{run_id}"] a')
    page.wait_for_url(f"{server.base_url}/workflows/runs/{run_id}")
    expect(page.locator("#run-status")).to_have_text("waiting_approval", timeout=WORKER_WAIT)
    # A form without the session's token changes nothing.
    forged = page.request.post(
        f"{server.base_url}/workflows/runs/{run_id}/approve", form={"comment": "x"}
    )
    assert forged.status == 403
    assert api(server, "GET", f"/api/v1/workflows/runs/{run_id}")["status"] == "waiting_approval"
    csrf = page.locator("#approve-form input[name=csrf]").get_attribute("value")
    too_long = page.request.post(
        f"{server.base_url}/workflows/runs/{run_id}/approve",
        form={"csrf": csrf, "comment": "x" * 5001},
    )
    assert too_long.status == 422
    not_an_object = page.request.post(
        f"{server.base_url}/workflows/runs/{run_id}/approve",
        form={"csrf": csrf, "payload": "[1, 2]"},
    )
    assert not_an_object.status == 422
    assert api(server, "GET", f"/api/v1/workflows/runs/{run_id}")["status"] == "waiting_approval"
    page.fill("#comment", "looks good")
    page.fill("#payload", '{"channel": "web"}')
    page.click("#approve")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=WORKER_WAIT)
    expect(page.locator("#run-outputs")).to_contain_text("published 2")
    decided = api(server, "GET", f"/api/v1/workflows/runs/{run_id}/steps")["steps"]
    approval = next(s for s in decided if s["step_id"] == "approve")
    assert approval["outputs"]["comment"] == "looks good"
    assert approval["outputs"]["payload"] == {"channel": "web"}
    # An ended run can no longer be cancelled: the answer says so (409).
    answer = page.request.post(
        f"{server.base_url}/workflows/runs/{run_id}/cancel", form={"csrf": csrf}
    )
    assert answer.status == 409


def test_the_runs_list_follows_runs_live_and_filters_by_status(page: Any, server: UiServer) -> None:
    created = api(server, "POST", "/api/v1/workflows", json=publish_definition("listed live"))
    run_path = f"/api/v1/workflows/{created['id']}/run"
    first = api(server, "POST", run_path, json={"inputs": {}})["run"]["run_id"]
    sign_in(page, server)
    page.goto(f"{server.base_url}/workflows/runs")
    page.evaluate("window.notReloaded = true")
    row = page.locator(f'#runs tr[data-run="{first}"] .run-status')
    expect(row).to_have_text("waiting_approval", timeout=WORKER_WAIT)
    # A run another client starts appears, and a decision shows, without a reload.
    second = api(server, "POST", run_path, json={"inputs": {}})["run"]["run_id"]
    expect(page.locator(f'#runs tr[data-run="{second}"]')).to_have_count(1)
    api(server, "POST", f"/api/v1/workflows/runs/{first}/approve", json={})
    expect(row).to_have_text("succeeded", timeout=WORKER_WAIT)
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, server, "workflow-runs")
    # The status filter lists that status only, and keeps following it.
    page.select_option("#status", "succeeded")
    page.click("#runs-filter button")
    page.wait_for_url(re.compile(r"status=succeeded"))
    listed = page.locator("#runs tbody tr").evaluate_all("rows => rows.map(r => r.dataset.run)")
    assert first in listed and second not in listed
    statuses = set(page.locator("#runs .run-status").all_inner_texts())
    assert statuses == {"succeeded"}
    api(server, "POST", f"/api/v1/workflows/runs/{second}/cancel")
    page.goto(f"{server.base_url}/workflows/runs?status=cancelled")
    expect(page.locator(f'#runs tr[data-run="{second}"] .run-status')).to_have_text("cancelled")


def test_another_users_workflows_and_runs_stay_theirs(
    page: Any, multi_user_server: UiServer
) -> None:
    server = multi_user_server
    created = api(server, "POST", "/api/v1/workflows", json=publish_definition("alice-only"))
    queued = api(server, "POST", f"/api/v1/workflows/{created['id']}/run", json={"inputs": {}})
    run_id = queued["run"]["run_id"]
    sign_in(page, server, BOB_KEY)
    page.goto(f"{server.base_url}/workflows")
    expect(page.locator("#no-workflows")).to_be_visible()
    assert page.goto(f"{server.base_url}/workflows/{created['id']}/run").status == 404
    assert page.goto(f"{server.base_url}/workflows/runs/{run_id}").status == 404
    page.goto(f"{server.base_url}/workflows/runs")
    expect(page.locator("#result-count")).to_have_text("0 runs")
    # Bob's own token, on alice's run: not found, and the run still waits for alice.
    csrf = page.locator(".signout input[name=csrf]").get_attribute("value")
    for action in ("approve", "cancel"):
        answer = page.request.post(
            f"{server.base_url}/workflows/runs/{run_id}/{action}", form={"csrf": csrf}
        )
        assert answer.status == 404
    assert api(server, "GET", f"/api/v1/workflows/runs/{run_id}")["status"] != "cancelled"
    events = api(server, "GET", f"/api/v1/workflows/runs/{run_id}/events")["events"]
    assert "human_approved" not in [e["event_type"] for e in events]
