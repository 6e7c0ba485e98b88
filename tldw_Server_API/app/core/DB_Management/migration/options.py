"""What to migrate and how: typed options of a run, and where an installation keeps its files.

:class:`RunOptions` says how (the policies and modes the command line's flags
name); :class:`MigrationOptions` adds which files and which server. Invalid
combinations are refused when the options are built, with the flag's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from ..backends.target import PgTarget
from ..registry import pg_namespace
from ..schemas import SCHEMAS
from ..schemas.spec import DatabaseSchema, SearchIndex
from .casts import Policies
from .check import OrphanPolicy
from .errors import UsageError
from .feed import DEFAULT_JOBS

DatabaseKind = Literal["media", "chacha", "analytics", "workflows", "users"]


@dataclass(frozen=True)
class SourceFile:
    """One SQLite file to migrate: which of our databases it is and whose, or any file.

    ``kind="generic"`` is any SQLite file; it lands in the PostgreSQL schema
    *namespace*, which ``--create-schema`` creates from the file's own layout.
    """

    kind: DatabaseKind | Literal["generic"]
    path: Path
    user_id: str | None = None
    namespace: str | None = None

    @property
    def schema(self) -> DatabaseSchema | None:
        return SCHEMAS.get(self.kind)

    @property
    def label(self) -> str:
        if self.schema is None:
            return f"SQLite file {self.path.name}"
        title = self.schema.title
        return f"{title} (user {self.user_id})" if self.user_id else title

    @property
    def target_namespace(self) -> str:
        if self.schema is None:
            if not self.namespace:
                raise UsageError(f"{self.path}: give the target schema (--target-schema)")
            return self.namespace
        return pg_namespace(self.schema, self.user_id or "1")

    @property
    def renames(self) -> dict[str, str]:
        return self.schema.legacy_table_names if self.schema else {}

    @property
    def search(self) -> tuple[SearchIndex, ...]:
        return self.schema.search if self.schema else ()


@dataclass(frozen=True)
class RunOptions:
    """How to migrate, whatever the files and the server."""

    batch_size: int = 500
    """Rows between two progress updates."""
    jobs: int = DEFAULT_JOBS
    """Helper processes for checksums and search vectors (0: none)."""
    skip_tables: set[str] = field(default_factory=set)
    create_schema: bool = False
    dry_run: bool = False
    verify_only: bool = False
    on_nul: Literal["error", "strip"] = "error"
    on_orphan: OrphanPolicy = "error"
    on_invalid_json: Literal["error", "string"] = "error"
    on_invalid_utf8: Literal["error", "replace"] = "error"
    each_unit_apart: bool = False
    """``--all-users``: each user's databases (and the server's) in a transaction of their own."""
    redo_all: bool = False
    """``--redo-all``: redo units an earlier run verified (else they are skipped)."""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if self.jobs < 0:
            raise UsageError("--jobs must be 0 or more")
        if self.dry_run and self.verify_only:
            raise UsageError("--dry-run and --verify-only exclude each other")
        if self.redo_all and not self.each_unit_apart:
            raise UsageError("--redo-all goes with --all-users")

    @property
    def read_only(self) -> bool:
        """``--dry-run`` and ``--verify-only`` write nothing."""
        return self.dry_run or self.verify_only

    @property
    def policies(self) -> Policies:
        return Policies(
            on_nul=self.on_nul,
            on_invalid_json=self.on_invalid_json,
            on_invalid_utf8=self.on_invalid_utf8,
        )

    def migrating(self, sources: list[SourceFile], target: PgTarget) -> MigrationOptions:
        """These options for a run of *sources* into *target*."""
        settings = {f.name: getattr(self, f.name) for f in fields(RunOptions)}
        return MigrationOptions(sources=sources, target=target, **settings)


@dataclass(frozen=True, kw_only=True)
class MigrationOptions(RunOptions):
    """A run: these files, into this server, as :class:`RunOptions` say."""

    sources: list[SourceFile]
    target: PgTarget


def discover_installation(data_dir: Path) -> list[SourceFile]:
    """Every user's files under DATA_DIR/user_databases/*/ and the server's databases."""
    found: list[SourceFile] = []
    users_dir = data_dir / "user_databases"
    for user_dir in sorted(p for p in users_dir.glob("*") if p.is_dir()):
        for kind, name in (("media", "Media_DB_v2.db"), ("chacha", "ChaChaNotes.db")):
            if (user_dir / name).exists():
                found.append(SourceFile(kind, user_dir / name, user_dir.name))  # type: ignore[arg-type]
    for schema in SCHEMAS.values():
        if not schema.per_user and (data_dir / schema.sqlite_file).exists():
            found.append(SourceFile(schema.name, data_dir / schema.sqlite_file))  # type: ignore[arg-type]
    return found
