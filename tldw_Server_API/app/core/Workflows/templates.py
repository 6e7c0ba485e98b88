"""A small, safe template language for step configuration.

``{{ path }}`` is replaced by the value at *path* in the run's context::

    Hello {{ inputs.name }}
    {{ steps.search.output.results.0.title }}
    {{ inputs.nickname | default("friend") }}
    {{ steps.fetch.output | json }}

A path is dotted names (and list indexes) rooted at ``inputs``, ``steps`` or
``run``. Filters: ``default(value)`` (used when the path is missing or null),
``json`` (JSON text), ``upper``, ``lower``, ``trim``, ``length``. Nothing is
evaluated: no attribute access on Python objects, no calls, so a definition
cannot run code on the server. A missing path without ``default`` is an error
naming the path.

:func:`render_value` renders every string inside a JSON-like value; a string
that is exactly one ``{{ ... }}`` keeps the referenced value's type (so a
webhook payload can carry a list or a number).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_TAG = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+|\[\d+\])*$")
_FILTER = re.compile(r"^(?P<name>[a-z_]+)\s*(?:\((?P<arg>.*)\))?$", re.DOTALL)
ROOTS = ("inputs", "steps", "run")
FILTERS = ("default", "json", "upper", "lower", "trim", "length")

_MISSING = object()


class TemplateError(ValueError):
    """A template that cannot be rendered; the message names the expression."""


def _split_path(path: str) -> list[str]:
    return [part for part in re.split(r"\.|\[|\]", path) if part != ""]


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at dotted *path* in *context* (raises :class:`KeyError` when missing)."""
    value: Any = context
    for part in _split_path(path):
        if isinstance(value, Mapping):
            if part not in value:
                raise KeyError(path)
            value = value[part]
        elif isinstance(value, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(value) <= index < len(value):
                raise KeyError(path)
            value = value[index]
        else:
            raise KeyError(path)
    return value


def _parse(expression: str) -> tuple[str, list[tuple[str, Any]]]:
    head, *filters = [piece.strip() for piece in _split_filters(expression)]
    if not _PATH.match(head):
        raise TemplateError(f"{{{{ {expression} }}}}: {head!r} is not a path like inputs.name")
    if _split_path(head)[0] not in ROOTS:
        raise TemplateError(f"{{{{ {expression} }}}}: paths start with one of {', '.join(ROOTS)}")
    parsed: list[tuple[str, Any]] = []
    for text in filters:
        match = _FILTER.match(text)
        if match is None or match["name"] not in FILTERS:
            raise TemplateError(
                f"{{{{ {expression} }}}}: unknown filter {text!r} (known: {', '.join(FILTERS)})"
            )
        arg: Any = None
        if match["name"] == "default":
            raw = (match["arg"] or "").strip()
            try:
                arg = json.loads(raw.replace("'", '"') if raw.startswith("'") else raw)
            except ValueError:
                raise TemplateError(
                    f"{{{{ {expression} }}}}: default(...) takes a JSON value, got {raw!r}"
                ) from None
        parsed.append((match["name"], arg))
    return head, parsed


def _split_filters(expression: str) -> list[str]:
    """Split on ``|`` outside quotes."""
    parts, current, quote = [], [], None
    for char in expression:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of one ``{{ ... }}`` expression (without the braces)."""
    path, filters = _parse(expression)
    try:
        value: Any = lookup(context, path)
    except KeyError:
        value = _MISSING
    for name, arg in filters:
        if name == "default":
            if value is _MISSING or value is None:
                value = arg
            continue
        if value is _MISSING:
            break
        if name == "json":
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        elif name == "upper":
            value = str(value).upper()
        elif name == "lower":
            value = str(value).lower()
        elif name == "trim":
            value = str(value).strip()
        elif name == "length":
            value = len(value) if hasattr(value, "__len__") else 0
    if value is _MISSING:
        raise TemplateError(f"{{{{ {expression} }}}}: {path} is not defined")
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def render(template: str, context: Mapping[str, Any]) -> str:
    """*template* with every ``{{ ... }}`` replaced by its value as text."""
    return _TAG.sub(lambda m: _as_text(evaluate(m.group(1), context)), template)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render the strings inside a JSON-like *value* (see the module docstring)."""
    if isinstance(value, str):
        whole = _TAG.fullmatch(value.strip())
        if whole is not None and value.strip() == value:
            return evaluate(whole.group(1), context)
        return render(value, context)
    if isinstance(value, Mapping):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item, context) for item in value]
    return value


def check(template: str) -> None:
    """Raise :class:`TemplateError` when *template* has a malformed expression."""
    for match in _TAG.finditer(template):
        _parse(match.group(1))
    if "{{" in _TAG.sub("", template):
        raise TemplateError(f"{template!r}: unbalanced '{{{{'")


def check_value(value: Any) -> None:
    if isinstance(value, str):
        check(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)
