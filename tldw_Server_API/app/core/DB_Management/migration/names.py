"""PostgreSQL names for SQLite names: folded to lower case, and at most 63 bytes.

PostgreSQL keeps the first 63 bytes of a name (``NAMEDATALEN - 1``) and silently
cuts the rest, so two SQLite names sharing their first 63 bytes would become
one. A longer name is therefore cut on a character boundary and given a short
hash of the whole name: distinct names stay distinct, and the same name always
gets the same target name, run after run (the plan finds the tables and
columns created by an earlier run by computing the name again).
"""

from __future__ import annotations

import hashlib

#: PostgreSQL's longest name in bytes (NAMEDATALEN - 1).
MAX_NAME_BYTES = 63
_HASH_CHARS = 8


def pg_identifier(name: str) -> str:
    """The PostgreSQL name of a SQLite table, column, index or constraint name."""
    folded = name.lower()
    encoded = folded.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_NAME_BYTES:
        return folded
    digest = hashlib.sha256(encoded).hexdigest()[:_HASH_CHARS]
    keep = MAX_NAME_BYTES - _HASH_CHARS - 1
    # Cut on a character boundary: drop a partial UTF-8 sequence at the end.
    prefix = encoded[:keep].decode("utf-8", "ignore")
    return f"{prefix}_{digest}"


def is_shortened(name: str) -> bool:
    """Whether *name* is too long for PostgreSQL and gets a shortened target name."""
    return pg_identifier(name) != name.lower()
