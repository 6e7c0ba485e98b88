"""``tldw-embed``: embeds an installation's existing media, notes and chat messages,
resumably."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import ChatStore, MediaStore, NotesStore
from tldw_Server_API.app.core.DB_Management.stores.embeddings import EmbeddingStore
from tldw_Server_API.app.core.RAG.embed_existing import embed_users
from tldw_Server_API.app.core.RAG.embeddings import OpenAICompatibleProvider, WordLlamaProvider
from tldw_Server_API.app.core.RAG.indexer import ITEMS_PER_BATCH, Indexer
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.RAG.embedding_server import embedding_server

ITEMS = ITEMS_PER_BATCH * 2 + 5


def fill(registry: DatabaseRegistry, items: int = ITEMS) -> None:
    media = MediaStore(registry.media())
    for number in range(items):
        media.add_media(f"Item {number}", f"Text number {number} about rivers.", "document")
    NotesStore(registry.chacha()).add_note("A note", "Notes are embedded too.")


def quiet() -> Console:
    return Console(file=io.StringIO(), width=100)


def test_every_live_item_and_note_is_embedded(
    settings: Settings, registry: DatabaseRegistry
) -> None:
    fill(registry)
    assert embed_users(settings, ["1"], quiet()) == ITEMS + 1
    store = EmbeddingStore(registry.media())
    model = WordLlamaProvider.model_id
    assert len(store.embedded_versions("media", model)) == ITEMS
    assert len(store.embedded_versions("note", model)) == 1


def test_a_second_run_has_nothing_left_to_do(
    settings: Settings, registry: DatabaseRegistry
) -> None:
    fill(registry, 3)
    embed_users(settings, ["1"], quiet())
    assert embed_users(settings, ["1"], quiet()) == 0


def test_an_interrupted_run_is_taken_up_where_it_stopped(
    settings: Settings, registry: DatabaseRegistry
) -> None:
    fill(registry)
    indexer = Indexer(registry, WordLlamaProvider())

    def interrupt(_done: int) -> None:
        raise KeyboardInterrupt  # as Ctrl-C after the first batch is stored

    with pytest.raises(KeyboardInterrupt):
        indexer.run("1", interrupt)
    assert indexer.work("1").items == ITEMS + 1 - ITEMS_PER_BATCH
    assert embed_users(settings, ["1"], quiet()) == ITEMS + 1 - ITEMS_PER_BATCH
    assert indexer.work("1").items == 0


def test_deleted_items_lose_their_chunks(settings: Settings, registry: DatabaseRegistry) -> None:
    fill(registry, 2)
    embed_users(settings, ["1"], quiet())
    media = MediaStore(registry.media())
    media.soft_delete(1)
    embed_users(settings, ["1"], quiet())
    assert set(
        EmbeddingStore(registry.media()).embedded_versions("media", WordLlamaProvider.model_id)
    ) == {"2"}


def test_chat_messages_are_embedded_and_deleted_ones_lose_their_chunks(
    settings: Settings, registry: DatabaseRegistry
) -> None:
    chats = ChatStore(registry.chacha())
    conversation = chats.create_conversation("Pets")
    kept = chats.add_message(conversation.id, "user", "My cat sleeps all day.")
    gone = chats.add_message(conversation.id, "user", "Interest rates went up.")
    assert embed_users(settings, ["1"], quiet()) == 2
    model = WordLlamaProvider.model_id
    store = EmbeddingStore(registry.media())
    assert set(store.embedded_versions("message", model)) == {str(kept.id), str(gone.id)}
    chats.soft_delete_message(gone.id)
    embed_users(settings, ["1"], quiet())
    assert set(store.embedded_versions("message", model)) == {str(kept.id)}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "TLDW_CONTENT_DB_BACKEND": "sqlite",
        "TLDW_DATA_DIR": str(tmp_path / "Databases"),
        "TLDW_CONFIG_FILE": str(tmp_path / "absent.txt"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tldw_Server_API.app.core.RAG.embed_existing", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_reports_what_it_embedded(tmp_path: Path) -> None:
    settings_dir = tmp_path / "Databases"
    registry = DatabaseRegistry(settings_for("sqlite", settings_dir))
    try:
        fill(registry, 3)
    finally:
        registry.close()
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "user 1: 4 item(s) embedded" in done.stderr


def test_a_bad_user_id_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    done = _run(tmp_path, "--user-id", "../etc")
    assert done.returncode == 2
    assert done.stderr.startswith("error:")


def test_changing_the_model_re_embeds_every_item(registry: DatabaseRegistry) -> None:
    fill(registry, 3)
    local = WordLlamaProvider()
    Indexer(registry, local).run("1")
    with embedding_server(dims=16) as server:
        remote = OpenAICompatibleProvider(server.url, "bow-16")
        report = Indexer(registry, remote).run("1")
    store = EmbeddingStore(registry.media())
    assert report.embedded_items == 4
    assert store.count(local.model_id) == 0
    assert store.count(remote.model_id) == report.chunks
