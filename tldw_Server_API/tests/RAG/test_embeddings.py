"""Embedding providers: the model shipped in the wordllama wheel (offline) and an
OpenAI-compatible endpoint (a real local HTTP server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tldw_Server_API.app.core.RAG.embeddings import (
    EmbeddingError,
    OpenAICompatibleProvider,
    WordLlamaProvider,
)
from tldw_Server_API.tests.RAG.embedding_server import bag_of_words, embedding_server


@pytest.fixture(scope="module")
def local() -> WordLlamaProvider:
    return WordLlamaProvider()


def test_local_model_returns_unit_vectors_of_256_numbers(local: WordLlamaProvider) -> None:
    vectors = local.embed(["the cat sat on the mat", "quarterly earnings fell"])
    assert vectors.shape == (2, 256)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_local_model_puts_related_texts_nearer_than_unrelated(local: WordLlamaProvider) -> None:
    cat, kitten, stocks = local.embed(
        ["the cat sat on the mat", "a kitten sleeps on a rug", "the stock market crashed"]
    )
    assert float(cat @ kitten) > float(cat @ stocks) + 0.1


def test_local_model_names_itself_with_its_dimension(local: WordLlamaProvider) -> None:
    assert local.model_id == "wordllama:l2_supercat:256"
    assert local.dimensions == 256


def test_local_model_loads_and_embeds_with_the_network_cut_off() -> None:
    # A fresh interpreter in which every socket connection fails: the wheel's files must do.
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled for this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from tldw_Server_API.app.core.RAG.embeddings import WordLlamaProvider
        print(WordLlamaProvider().embed(["offline text"]).shape)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(1, 256)"


def test_an_empty_list_embeds_to_no_rows(local: WordLlamaProvider) -> None:
    assert local.embed([]).shape == (0, 256)


def test_endpoint_vectors_come_back_in_input_order_and_unit_length() -> None:
    with embedding_server(dims=16) as server:
        provider = OpenAICompatibleProvider(server.url, "bow-16")
        texts = ["alpha beta", "gamma", "alpha alpha delta"]
        vectors = provider.embed(texts)
    expected = np.asarray([bag_of_words(t, 16) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected, atol=1e-6)


def test_endpoint_receives_the_model_name_and_the_key_as_a_bearer_token() -> None:
    with embedding_server() as server:
        OpenAICompatibleProvider(server.url, "my-model", api_key="sk-test-123").embed(["x y"])
        request = server.requests[-1]
    assert request["path"] == "/v1/embeddings"
    assert request["body"] == {"model": "my-model", "input": ["x y"]}
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"


def test_endpoint_batches_long_lists_into_requests_of_at_most_64_texts() -> None:
    with embedding_server() as server:
        provider = OpenAICompatibleProvider(server.url, "m", dimensions=32)
        vectors = provider.embed([f"text number {i}" for i in range(150)])
        sizes = [len(r["body"]["input"]) for r in server.requests]
    assert vectors.shape == (150, 32)
    assert sizes == [64, 64, 22]


def test_endpoint_dimension_is_learned_from_its_answer() -> None:
    with embedding_server(dims=24) as server:
        assert OpenAICompatibleProvider(server.url, "m").dimensions == 24


def test_endpoint_model_id_records_the_model_name() -> None:
    assert OpenAICompatibleProvider("http://127.0.0.1:9/v1", "nomic").model_id == "openai:nomic"


def test_endpoint_error_names_the_status_but_not_the_texts_or_key() -> None:
    with embedding_server() as server:
        server.fail_with = 500
        provider = OpenAICompatibleProvider(server.url, "m", api_key="sk-secret", dimensions=32)
        with pytest.raises(EmbeddingError) as caught:
            provider.embed(["private diary entry"])
    message = str(caught.value)
    assert "HTTP 500" in message
    assert "diary" not in message and "sk-secret" not in message


def test_unreachable_endpoint_is_a_clear_error() -> None:
    provider = OpenAICompatibleProvider("http://127.0.0.1:9/v1", "m", dimensions=8, timeout=2)
    with pytest.raises(EmbeddingError, match="cannot be reached"):
        provider.embed(["x"])
