"""The engine and runtime on SQLite and PostgreSQL: real runs, real step types."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.media import MediaStore
from tldw_Server_API.app.core.DB_Management.stores.notes import NotesStore
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.engine import resolve_human
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime
from tldw_Server_API.tests.conftest import Recorder

from .conftest import assert_gap_free, create_workflow, event_types

Server = Callable[[list[int]], tuple[str, Recorder]]


def _run(
    runtime: WorkflowRuntime, workflow_id: int, inputs: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    run = runtime.submit(workflow_id, inputs or {}, user_id="1", **kw)
    return runtime.run_and_wait(run["run_id"], timeout=30)


def _steps(store: WorkflowStore, run_id: str) -> list[tuple[str, str]]:
    return [(s["step_id"], s["status"]) for s in store.list_steps(run_id)]


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def text_artifact_fields(artifact: dict) -> tuple[object, ...]:
    return artifact["size_bytes"], artifact["mime_type"], artifact["checksum_sha256"]


def text_artifact_fields_of(text: str) -> tuple[object, ...]:
    """What a step records with a text artifact: its UTF-8 size, type and SHA-256."""
    data = text.encode("utf-8")
    return len(data), "text/plain; charset=utf-8", hashlib.sha256(data).hexdigest()


def test_definition_with_several_step_types_succeeds(
    store: WorkflowStore, runtime: WorkflowRuntime, http_server: Server
) -> None:
    url, recorder = http_server([])
    workflow_id = create_workflow(
        store,
        {
            "name": "several",
            "steps": [
                {
                    "id": "intro",
                    "type": "prompt",
                    "config": {"template": "Hello {{ inputs.name }}", "artifact": "greeting"},
                },
                {
                    "id": "say",
                    "type": "log",
                    "config": {"message": "{{ steps.intro.output.text }}"},
                },
                {"id": "pause", "type": "delay", "config": {"seconds": 0.05}},
                {
                    "id": "route",
                    "type": "branch",
                    "config": {
                        "cases": [
                            {"when": {"path": "inputs.notify", "op": "truthy"}, "next": "notify"}
                        ],
                        "default": "end",
                    },
                },
                {
                    "id": "notify",
                    "type": "webhook",
                    "config": {
                        "url": url,
                        "payload": {
                            "text": "{{ steps.intro.output.text }}",
                            "run": "{{ run.run_id }}",
                        },
                    },
                },
            ],
        },
    )

    run = _run(runtime, workflow_id, {"name": "Ann", "notify": True})

    assert run["status"] == "succeeded", run["error"]
    outputs = run["outputs"]["steps"]
    assert outputs["intro"]["text"] == "Hello Ann"
    assert outputs["say"]["message"] == "Hello Ann"
    assert outputs["route"] == {"next": "notify", "matched_case": 0}
    assert recorder.requests[0]["body"] == {"text": "Hello Ann", "run": run["run_id"]}
    assert run["outputs"]["result"]["status_code"] == 200
    assert run["duration_ms"] >= 50
    types = event_types(store, run["run_id"])
    assert types[:2] == ["run_queued", "run_started"] and types[-1] == "run_completed"
    assert types.count("step_started") == types.count("step_completed") == 5
    assert "log" in types and "artifact_created" in types
    assert_gap_free(store, run["run_id"])
    (artifact,) = store.list_artifacts(run["run_id"])
    assert artifact["metadata"] == {"name": "greeting", "content": "Hello Ann"}
    assert text_artifact_fields(artifact) == text_artifact_fields_of("Hello Ann")


def test_a_log_steps_message_is_recorded_with_its_result(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    workflow_id = create_workflow(
        store,
        {"name": "say", "steps": [{"id": "say", "type": "log", "config": {"message": "hi"}}]},
    )

    run = _run(runtime, workflow_id)

    events = store.list_events(run["run_id"])
    step_events = [(e["event_type"], e["payload"].get("message")) for e in events[2:5]]
    assert step_events == [("step_started", None), ("log", "hi"), ("step_completed", None)]
    assert events[3]["created_at"] == events[4]["created_at"]  # one transaction


def test_content_steps_use_the_run_owners_media_and_notes(
    registry: DatabaseRegistry, store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "research",
            "steps": [
                {
                    "id": "ingest",
                    "type": "media_ingest",
                    "config": {
                        "title": "{{ inputs.topic }} primer",
                        "text": "Axolotls regenerate limbs.",
                        "keywords": ["biology"],
                    },
                },
                {"id": "search", "type": "rag_search", "config": {"query": "axolotls", "limit": 3}},
                {
                    "id": "note",
                    "type": "create_note",
                    "config": {
                        "title": "Found {{ steps.search.output.count }}",
                        "content": "{{ steps.search.output.results.0.title }}",
                    },
                },
            ],
        },
    )

    run = _run(runtime, workflow_id, {"topic": "Axolotl"})

    assert run["status"] == "succeeded", run["error"]
    outputs = run["outputs"]["steps"]
    media = MediaStore(registry.media("1")).get_media(outputs["ingest"]["media_id"])
    assert (media.title, media.content) == ("Axolotl primer", "Axolotls regenerate limbs.")
    assert outputs["search"]["count"] == 1
    assert outputs["search"]["results"][0]["id"] == media.id
    note = NotesStore(registry.chacha("1")).get_note(outputs["note"]["note_id"])
    assert (note.title, note.content) == ("Found 1", "Axolotl primer")
    (artifact,) = store.list_artifacts(run["run_id"])
    assert artifact["uri"] == f"media://1/{media.id}"
    assert text_artifact_fields(artifact) == text_artifact_fields_of("Axolotls regenerate limbs.")


def test_media_ingest_reads_files_only_from_the_workflow_inputs_directory(
    registry: DatabaseRegistry, store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    inbox = registry.settings.data_dir / "workflow_inputs"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "memo.txt").write_text("Quarterly memo: tapirs.", encoding="utf-8")
    secret = registry.settings.data_dir / "secret.txt"
    secret.write_text("not for workflows", encoding="utf-8")
    workflow_id = create_workflow(
        store,
        {
            "name": "file-ingest",
            "steps": [
                {
                    "id": "ingest",
                    "type": "media_ingest",
                    "config": {"title": "Memo", "path": "{{ inputs.path }}"},
                },
            ],
        },
    )

    inside = _run(runtime, workflow_id, {"path": "memo.txt"})
    outside = _run(runtime, workflow_id, {"path": str(secret)})

    assert inside["status"] == "succeeded", inside["error"]
    media = MediaStore(registry.media("1")).get_media(inside["outputs"]["result"]["media_id"])
    assert media.content == "Quarterly memo: tapirs."
    assert outside["status"] == "failed"
    assert "outside" in outside["error"]


def test_branch_follows_the_first_matching_case(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "triage",
            "steps": [
                {
                    "id": "check",
                    "type": "branch",
                    "config": {
                        "cases": [
                            {
                                "when": {"path": "inputs.score", "op": "gte", "value": 5},
                                "next": "high",
                            }
                        ],
                        "default": "low",
                    },
                },
                {"id": "high", "type": "log", "config": {"message": "high"}, "on_success": "end"},
                {"id": "low", "type": "log", "config": {"message": "low"}},
            ],
        },
    )

    high = _run(runtime, workflow_id, {"score": 7})
    low = _run(runtime, workflow_id, {"score": 2})

    assert _steps(store, high["run_id"]) == [("check", "succeeded"), ("high", "succeeded")]
    assert _steps(store, low["run_id"]) == [("check", "succeeded"), ("low", "succeeded")]
    assert high["outputs"]["result"]["message"] == "high"


def _approval_workflow(
    store: WorkflowStore, on_failure: str | None = None, gate: str = "wait_for_human"
) -> int:
    review: dict[str, Any] = {
        "id": "review",
        "type": gate,
        "config": {"prompt": "Publish {{ inputs.title }}?"},
    }
    if on_failure:
        review["on_failure"] = on_failure
    return create_workflow(
        store,
        {
            "name": f"publish-{gate}-{on_failure}",
            "steps": [
                {"id": "draft", "type": "prompt", "config": {"template": "{{ inputs.title }}"}},
                review,
                {
                    "id": "publish",
                    "type": "log",
                    "config": {"message": "published, {{ steps.review.output.comment }}"},
                    "on_success": "end",
                },
                {"id": "archive", "type": "log", "config": {"message": "archived"}},
            ],
        },
    )


def test_wait_for_human_approval_resumes_the_run(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    waiting = _run(runtime, _approval_workflow(store), {"title": "Post"})
    assert (waiting["status"], waiting["status_reason"]) == ("waiting_human", "Publish Post?")
    assert waiting["locked_by"] is None

    resolve_human(store, waiting["run_id"], approved=True, decided_by="7", comment="ok")
    run = runtime.run_and_wait(waiting["run_id"], timeout=30)

    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "published, ok"
    assert _steps(store, run["run_id"]) == [
        ("draft", "succeeded"),
        ("review", "succeeded"),
        ("publish", "succeeded"),
    ]
    assert "human_approved" in event_types(store, run["run_id"])
    assert_gap_free(store, run["run_id"])


def test_wait_for_human_rejection_fails_the_run(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    waiting = _run(runtime, _approval_workflow(store), {"title": "Post"})

    run = resolve_human(store, waiting["run_id"], approved=False, decided_by="7", comment="no")

    assert run["status"] == "failed"
    assert run["error"] == "rejected by 7: no"
    assert _steps(store, run["run_id"]) == [("draft", "succeeded"), ("review", "failed")]
    assert event_types(store, run["run_id"])[-3:] == ["human_rejected", "step_failed", "run_failed"]


def test_rejection_follows_on_failure_when_given(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    waiting = _run(runtime, _approval_workflow(store, on_failure="archive"), {"title": "Post"})

    resolve_human(store, waiting["run_id"], approved=False, decided_by="7")
    run = runtime.run_and_wait(waiting["run_id"], timeout=30)

    assert run["status"] == "succeeded", run["error"]
    assert _steps(store, run["run_id"]) == [
        ("draft", "succeeded"),
        ("review", "failed"),
        ("archive", "succeeded"),
    ]


def test_wait_for_approval_waits_as_waiting_approval_until_approved(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    waiting = _run(runtime, _approval_workflow(store, gate="wait_for_approval"), {"title": "Post"})
    assert (waiting["status"], waiting["status_reason"]) == ("waiting_approval", "Publish Post?")
    assert event_types(store, waiting["run_id"])[-1] == "run_waiting_approval"

    resolve_human(store, waiting["run_id"], approved=True, decided_by="7", comment="ok")
    run = runtime.run_and_wait(waiting["run_id"], timeout=30)

    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "published, ok"


def test_cancel_interrupts_a_running_delay(store: WorkflowStore, runtime: WorkflowRuntime) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "slow",
            "steps": [
                {"id": "wait", "type": "delay", "config": {"seconds": 120}},
                {"id": "never", "type": "log", "config": {"message": "x"}},
            ],
        },
    )
    run_id = runtime.submit(workflow_id, {}, user_id="1")["run_id"]
    _wait_for(lambda: _steps(store, run_id) == [("wait", "running")])

    store.cancel_run(run_id)
    run = runtime.run_and_wait(run_id, timeout=30)

    assert run["status"] == "cancelled"
    assert _steps(store, run_id) == [("wait", "cancelled")]
    assert event_types(store, run_id)[-3:] == [
        "cancel_requested",
        "step_cancelled",
        "run_cancelled",
    ]


def test_stopping_the_runtime_gives_the_run_back(
    registry: DatabaseRegistry, store: WorkflowStore
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "handover",
            "steps": [
                {"id": "first", "type": "prompt", "config": {"template": "one"}},
                {"id": "wait", "type": "delay", "config": {"seconds": 0.5}},
            ],
        },
    )
    first = WorkflowRuntime(registry, workers=1, poll_seconds=0.05).start()
    run_id = first.submit(workflow_id, {}, user_id="1")["run_id"]
    _wait_for(lambda: ("wait", "running") in _steps(store, run_id))
    first.stop()
    assert store.get_run(run_id)["status"] == "queued"

    with WorkflowRuntime(registry, workers=1, poll_seconds=0.05) as second:
        run = second.run_and_wait(run_id, timeout=30)

    assert run["status"] == "succeeded", run["error"]
    assert _steps(store, run_id) == [
        ("first", "succeeded"),
        ("wait", "abandoned"),
        ("wait", "succeeded"),
    ]
    assert_gap_free(store, run_id)


def _webhook_workflow(store: WorkflowStore, url: str, name: str, **extra: Any) -> int:
    step: dict[str, Any] = {
        "id": "hook",
        "type": "webhook",
        "config": {"url": url, "backoff_seconds": 0.01} | extra.pop("config", {}),
    }
    step |= extra
    return create_workflow(store, {"name": name, "steps": [step]})


def test_webhook_is_retried_by_its_step_retry_policy_until_it_succeeds(
    store: WorkflowStore, runtime: WorkflowRuntime, http_server: Server
) -> None:
    url, recorder = http_server([500, 503])

    run = _run(runtime, _webhook_workflow(store, url, "hook"), {"x": 1})

    assert run["status"] == "succeeded", run["error"]
    output = run["outputs"]["result"]
    assert (output["status_code"], output["attempts"]) == (200, 3)
    assert output["body"] == {"ok": True, "seen": 3}
    assert [r["status"] for r in recorder.requests] == [500, 503, 200]
    assert recorder.requests[0]["body"]["inputs"] == {"x": 1}
    assert {r["headers"]["Idempotency-Key"] for r in recorder.requests} == {f"{run['run_id']}:hook"}
    # One retry concept: the config's max_attempts/backoff_seconds are the step's retry policy.
    failed = [e for e in store.list_events(run["run_id"]) if e["event_type"] == "step_failed"]
    assert [e["payload"]["retry_in_seconds"] for e in failed] == [0.01, 0.02]
    assert _steps(store, run["run_id"]) == [
        ("hook", "failed"),
        ("hook", "failed"),
        ("hook", "succeeded"),
    ]


def test_webhook_client_error_is_not_retried(
    store: WorkflowStore, runtime: WorkflowRuntime, http_server: Server
) -> None:
    url, recorder = http_server([404])

    run = _run(runtime, _webhook_workflow(store, url, "hook404"))

    assert run["status"] == "failed"
    assert "HTTP 404" in run["error"]
    assert len(recorder.requests) == 1


def test_failed_step_is_retried_by_the_runtime(
    store: WorkflowStore, runtime: WorkflowRuntime, http_server: Server
) -> None:
    url, _ = http_server([500, 500])
    workflow_id = _webhook_workflow(
        store,
        url,
        "step-retry",
        config={"max_attempts": 1},
        retry={"max_attempts": 3, "backoff_seconds": 0.05},
    )

    run = _run(runtime, workflow_id)

    assert run["status"] == "succeeded", run["error"]
    assert _steps(store, run["run_id"]) == [
        ("hook", "failed"),
        ("hook", "failed"),
        ("hook", "succeeded"),
    ]
    assert [s["attempt"] for s in store.list_steps(run["run_id"])] == [1, 2, 3]
    types = event_types(store, run["run_id"])
    assert types.count("run_released") == 2 and types.count("run_resumed") == 2


def test_exhausted_retries_fail_the_run(
    store: WorkflowStore, runtime: WorkflowRuntime, http_server: Server
) -> None:
    url, _ = http_server([500, 500, 500])
    workflow_id = _webhook_workflow(
        store,
        url,
        "give-up",
        config={"max_attempts": 1},
        retry={"max_attempts": 2, "backoff_seconds": 0.01},
    )

    run = _run(runtime, workflow_id)

    assert run["status"] == "failed"
    assert run["error"].startswith("step 'hook' failed: webhook POST")
    assert _steps(store, run["run_id"]) == [("hook", "failed"), ("hook", "failed")]


def test_on_failure_handler_runs_after_a_final_failure(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "fallback",
            "steps": [
                {
                    "id": "greet",
                    "type": "prompt",
                    "config": {"template": "Hi {{ inputs.missing }}"},
                    "on_failure": "apologise",
                },
                {"id": "never", "type": "log", "config": {"message": "x"}, "on_success": "end"},
                {
                    "id": "apologise",
                    "type": "log",
                    "config": {"message": "sorry: {{ steps.greet.error }}"},
                },
            ],
        },
    )

    run = _run(runtime, workflow_id)

    assert run["status"] == "succeeded", run["error"]
    assert _steps(store, run["run_id"]) == [("greet", "failed"), ("apologise", "succeeded")]
    assert "inputs.missing is not defined" in run["outputs"]["result"]["message"]


def test_idempotency_key_runs_the_workflow_once(
    store: WorkflowStore, runtime: WorkflowRuntime
) -> None:
    workflow_id = create_workflow(
        store, {"name": "once", "steps": [{"id": "a", "type": "log", "config": {"message": "x"}}]}
    )

    first = _run(runtime, workflow_id, idempotency_key="order-42")
    second = runtime.submit(workflow_id, {}, user_id="1", idempotency_key="order-42")

    assert second["run_id"] == first["run_id"]
    assert second["status"] == "succeeded"
    assert store.count_runs(workflow_id=workflow_id) == 1
    assert event_types(store, first["run_id"]).count("run_completed") == 1
