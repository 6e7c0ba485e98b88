"""``tldw-embed``: embed what an installation already holds (after a migration, say).

Embeds every live media item and note of the given users that the configured model has
not embedded at its current version, with a progress bar, and removes the chunks of
items that are gone. Resumable: each item is stored as soon as it is embedded, so a run
that is interrupted (Ctrl-C, a crash) loses at most one batch, and the next run starts
from what is stored. A running server's background indexer may work at the same time:
both write the same rows, and the later write wins.

Exit codes: 0 done, 1 the model could not embed, 2 bad configuration or user id,
3 a database cannot be reached (one line says where and what to do; ``TLDW_DEBUG=1``
adds the traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..commands import add_user_ids_option, command_parser
from ..config import ConfigError, Settings, load_settings
from ..DB_Management.init_db import unreachable_exit
from ..DB_Management.registry import DatabaseRegistry, InvalidUserId
from ..DB_Management.schemas.manager import SchemaError
from .embeddings import EmbeddingError, provider_from_settings
from .indexer import Indexer

EMBEDDING_FAILED = 1
BAD_INPUT = 2


def default_users(settings: Settings) -> list[str]:
    """The users the server serves: the API keys file's in multi-user mode, else the one."""
    if settings.auth_mode == "multi_user":
        from ...api.auth import build_auth

        return sorted(set(build_auth(settings).user_ids))
    return [settings.default_user_id]


def embed_users(settings: Settings, users: Sequence[str], console: Console) -> int:
    """Embed *users*' content with a progress bar per user; the number of items embedded."""
    registry = DatabaseRegistry(settings)
    try:
        indexer = Indexer(registry, provider_from_settings(settings))
        total = 0
        for user in users:
            pending = indexer.work(user).items
            with Progress(
                TextColumn(f"user {user}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("embedding", total=pending)
                report = indexer.run(user, partial(progress.advance, task))
            console.print(
                f"user {user}: {report.embedded_items} item(s) embedded "
                f"({report.chunks} chunks), {report.removed_items} removed, "
                f"model {indexer.provider.model_id}"
            )
            total += report.embedded_items
        return total
    finally:
        registry.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = command_parser(
        "tldw-embed",
        "tldw_Server_API.app.core.RAG.embed_existing",
        "Embed the media, notes and chat messages an installation already holds, "
        "for retrieval (resumable: run it again after an interruption).",
    )
    add_user_ids_option(parser, "content to embed", default="every user the server serves")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        settings = load_settings()
        users = args.user_id or default_users(settings)
        embed_users(settings, users, console)
    except (ConfigError, InvalidUserId, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except EmbeddingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EMBEDDING_FAILED
    except Exception as exc:
        return unreachable_exit(exc, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
