"""The one rule for text a database can store, on both backends.

PostgreSQL refuses NUL (``\\u0000``) in text and JSON, and a lone surrogate
(``"\\ud800"`` in JSON) cannot be encoded as UTF-8 by either driver. Request
models check their text with :data:`StorableText` (a string) or
:data:`StorableJson` (any JSON value: every key and string inside), so such
input is a 422 naming the field on both backends instead of a 500 on one and a
stored row on the other.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator


def storable(value: str) -> str:
    """*value* if both backends can store it; else :class:`ValueError` saying why."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


def storable_json(value: Any) -> Any:
    """*value* if every key and string in it is :func:`storable`; the error names the path."""
    for path, text in _texts(value, ()):
        try:
            storable(text)
        except ValueError as exc:
            where = ".".join(path)
            raise ValueError(f"{where}: {exc}" if where else str(exc)) from None
    return value


def _texts(value: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    """Every string of a JSON value (keys included), with the path that leads to it."""
    if isinstance(value, str):
        return [(path, value)]
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            # The path is shown in the error: a key's NUL or surrogate appears escaped.
            step = (*path, json.dumps(str(key))[1:-1])
            if isinstance(key, str):
                found.append((step, key))
            found.extend(_texts(item, step))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(_texts(item, (*path, str(index))))
    return found


StorableText = Annotated[str, AfterValidator(storable)]
"""A string both backends can store."""

StorableJson = Annotated[Any, AfterValidator(storable_json)]
"""A JSON value whose keys and strings both backends can store."""

JsonObject = dict[StorableText, StorableJson]
"""A JSON object both backends can store: a bad key or value is a 422 naming it."""

__all__ = ["JsonObject", "StorableJson", "StorableText", "storable", "storable_json"]
