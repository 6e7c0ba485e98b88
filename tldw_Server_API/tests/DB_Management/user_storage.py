"""What exists in storage, per user: which users have databases, and which SQLite files the
process holds open. Read from the files and the PostgreSQL catalogue, not from the registry."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import create_engine, text

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget

USER_SCHEMA = re.compile(r"^user_(.+)_(media|chacha)$")


def users_with_databases(settings: Settings) -> set[str]:
    """The users who have a Media or ChaChaNotes database (a file, or a PostgreSQL schema)."""
    if not settings.uses_postgres:
        root = settings.data_dir / "user_databases"
        if not root.exists():
            return set()
        return {d.name for d in root.iterdir() if any(d.glob("*.db"))}
    engine = create_engine(PgTarget.from_settings(settings).sqlalchemy_url())
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT nspname FROM pg_namespace")).scalars().all()
    finally:
        engine.dispose()
    return {m.group(1) for name in names if (m := USER_SCHEMA.match(name))}


def open_files(pid: int | str = "self") -> set[Path]:
    """The regular files process *pid* holds open (from /proc)."""
    found: set[Path] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            found.add(Path(os.readlink(fd_dir / fd)))
        except OSError:  # closed meanwhile
            continue
    return found


def users_with_open_files(settings: Settings, pid: int | str = "self") -> set[str]:
    """The users some of whose SQLite files process *pid* holds open."""
    root = (settings.data_dir / "user_databases").resolve()
    return {p.relative_to(root).parts[0] for p in open_files(pid) if p.is_relative_to(root)}
