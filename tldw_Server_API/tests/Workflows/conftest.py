"""Fixtures of the workflow tests: a store, a started runtime, a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.definitions import parse_definition
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime


@pytest.fixture
def store(registry: DatabaseRegistry) -> WorkflowStore:
    return WorkflowStore(registry.workflows())


@pytest.fixture
def runtime(registry: DatabaseRegistry) -> Iterator[WorkflowRuntime]:
    """Two worker threads that poll and heartbeat often (the tests' runs are short)."""
    runtime = WorkflowRuntime(registry, workers=2, poll_seconds=0.05, heartbeat_seconds=0.5)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def create_workflow(store: WorkflowStore, document: dict[str, Any], owner: str = "1") -> int:
    """Validate *document* and store it; return the definition's id."""
    definition = parse_definition(document)
    return int(
        store.create_definition(definition.name, definition.to_document(), owner_id=owner)["id"]
    )


def event_types(store: WorkflowStore, run_id: str) -> list[str]:
    return [e["event_type"] for e in store.list_events(run_id)]


def assert_gap_free(store: WorkflowStore, run_id: str) -> None:
    seqs = [e["event_seq"] for e in store.list_events(run_id)]
    assert seqs == list(range(1, len(seqs) + 1))


@dataclass
class Recorder:
    """What a :func:`http_server` received, and how it answers (a list of status codes)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def http_server() -> Iterator[Callable[[list[int]], tuple[str, Recorder]]]:
    """Start local servers on 127.0.0.1 that answer with the given statuses, then 200."""
    servers: list[ThreadingHTTPServer] = []

    def start(statuses: list[int]) -> tuple[str, Recorder]:
        recorder = Recorder(statuses=list(statuses))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                code = recorder.next_status()
                with recorder.lock:
                    recorder.requests.append(
                        {
                            "path": self.path,
                            "body": json.loads(body or "null"),
                            "status": code,
                            "headers": dict(self.headers),
                        }
                    )
                reply = json.dumps({"ok": code < 400, "seen": len(recorder.requests)}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/hook", recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
