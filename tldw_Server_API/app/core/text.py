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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, overload

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


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


#: What :func:`storable` refuses, said in the API schema (ECMA-262 regex): no NUL.
#: (Lone surrogates cannot be sent in UTF-8 JSON at all.)
NO_NUL_PATTERN = r"^[^\u0000]*$"


@dataclass(frozen=True)
class _SchemaSays:
    """Says in a type's JSON schema what its validator refuses (*adjust* edits the schema)."""

    adjust: Callable[[JsonSchemaValue], None]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        self.adjust(schema)
        return schema


def _no_nul(schema: JsonSchemaValue) -> None:
    schema.setdefault("pattern", NO_NUL_PATTERN)  # a stricter pattern already excludes NUL


def _no_nul_in_keys(schema: JsonSchemaValue) -> None:
    schema.pop("patternProperties", None)
    schema["propertyNames"] = {"pattern": NO_NUL_PATTERN}


StorableText = Annotated[str, AfterValidator(storable), _SchemaSays(_no_nul)]
"""A string both backends can store."""

StorableJson = Annotated[Any, AfterValidator(storable_json)]
"""A JSON value whose keys and strings both backends can store."""


JsonObject = Annotated[dict[StorableText, StorableJson], _SchemaSays(_no_nul_in_keys)]
"""A JSON object both backends can store: a bad key or value is a 422 naming it."""


@overload
def strip_nul(value: str) -> str: ...
@overload
def strip_nul(value: Any) -> Any: ...
def strip_nul(value: Any) -> Any:
    """*value* without NUL characters: a string, or every key and string of a JSON value.

    For data that is to be kept rather than refused (:func:`storable` refuses): the one
    place that drops what PostgreSQL's text and JSONB cannot hold.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    return value


__all__ = [
    "JsonObject",
    "StorableJson",
    "StorableText",
    "storable",
    "storable_json",
    "strip_nul",
]
