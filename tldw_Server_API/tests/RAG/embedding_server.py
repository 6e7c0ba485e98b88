"""Tiny real HTTP servers that speak the OpenAI embeddings and chat APIs, for tests.

Its model is a hashed bag of words (each word adds 1 to one of ``dims`` slots), so
texts sharing words are near each other and every answer can be recomputed by the
test. It answers ``data`` in reverse order (clients must sort by ``index``) and
records every request it receives.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def bag_of_words(text: str, dims: int) -> list[float]:
    """The server's embedding of *text*: word counts hashed into *dims* slots."""
    vector = [0.0] * dims
    for word in text.lower().split():
        vector[zlib.crc32(word.strip(".,;:!?").encode()) % dims] += 1.0
    return vector


@dataclass
class EmbeddingServer:
    url: str
    dims: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None


@contextmanager
def embedding_server(dims: int = 32) -> Iterator[EmbeddingServer]:
    """A running server at ``<url>/embeddings`` (``url`` ends in ``/v1``)."""
    state = EmbeddingServer(url="", dims=dims)
    lock = threading.Lock()

    class Handler(_JsonHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.requests.append(
                    {"path": self.path, "body": body, "headers": dict(self.headers)}
                )
            if state.fail_with is not None:
                self._reply(state.fail_with, {"error": {"message": "failing on purpose"}})
                return
            if self.path != "/v1/embeddings":
                self._reply(404, {"error": {"message": "no such route"}})
                return
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": bag_of_words(t, dims)}
                for i, t in enumerate(texts)
            ]
            self._reply(200, {"object": "list", "model": body["model"], "data": data[::-1]})

    with _serving(Handler) as url:
        state.url = url
        yield state


class _JsonHandler(BaseHTTPRequestHandler):
    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        return None


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve *handler* on a free loopback port; yields the base URL (``.../v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chat_server(answer: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible chat endpoint answering *answer*; yields (URL, requests seen)."""
    received: list[dict[str, Any]] = []

    class Handler(_JsonHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "body": body})
            message = {"role": "assistant", "content": answer}
            self._reply(200, {"choices": [{"index": 0, "message": message}]})

    with _serving(Handler) as url:
        yield url, received
