"""Secrets and user content out of every message and log line.

:func:`redact_secrets` masks a password in each form the settings and flags accept
it: a connection URI (``postgresql://user:pw@host/db``, or ``user:pw@host``), libpq ``key=value``
pairs (``password=pw``), a URI query (``?password=pw``), and any known secret
value given to it (the configured password, API keys). The server installs
:class:`RedactingFilter` on every log handler, so no line escapes it, and
:class:`AccessLogWithoutQueryValues` on the access log: query strings carry what
users search for (``/api/v1/claims/search?q=...``), so their values are masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from pydantic import SecretStr

MASK = "****"
#: ``scheme://user:pw@`` and a bare ``user:pw@host`` (the URI without its scheme).
_URI_PASSWORD = re.compile(
    r"(?P<head>(?:[a-z][a-z0-9+.-]*://)?[^:@/\s'\"]*):(?P<pw>[^@\s'\"]*)@", re.I
)
_KEY_VALUE_PASSWORD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&]+)", re.I
)

Secret = SecretStr | str | None


def _values(secrets: Iterable[Secret]) -> list[str]:
    values = []
    for secret in secrets:
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if value:
            values.append(value)
    # Longest first: a secret that contains another is masked whole.
    return sorted(values, key=len, reverse=True)


def redact_secrets(text: str, *secrets: Secret) -> str:
    """*text* with every password form and every value in *secrets* masked."""
    for value in _values(secrets):
        text = text.replace(value, MASK)
    text = _URI_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    return _KEY_VALUE_PASSWORD.sub(rf"\g<head>{MASK}", text)


def without_query_values(path: str) -> str:
    """``/search?q=secret&limit=5`` -> ``/search?q=****&limit=****`` (names kept, values not)."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    names = [(name, MASK) for name, _ in parse_qsl(query, keep_blank_values=True)]
    return f"{base}?{urlencode(names, safe='*')}" if names else base


def describe_db_error(exc: BaseException) -> str:
    """A database error for a log line: its kind, SQLSTATE and constraint, never its text.

    Drivers quote the offending values (``Key (title)=(...)``, ``invalid input syntax
    for type integer: "..."``) and SQLAlchemy appends the statement's parameters: user
    content, which stays out of the log.
    """
    original = getattr(exc, "orig", None) or exc
    parts = [type(original).__name__]
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    diag = getattr(original, "diag", None)
    for label in ("constraint_name", "table_name", "column_name"):
        value = getattr(diag, label, None) if diag is not None else None
        if value:
            parts.append(f"{label.removesuffix('_name')} {value}")
    return ", ".join(parts)


class RedactingFilter(logging.Filter):
    """Masks secrets (see :func:`redact_secrets`) in every record a handler emits."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        # Message and arguments apart: formatters such as uvicorn's access line
        # read the arguments themselves.
        record.msg = self._redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._redact(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text, *self._secrets)
        return True

    def _redact(self, value: object) -> object:
        if isinstance(value, str):
            return redact_secrets(value, *self._secrets)
        if isinstance(value, BaseException):  # its message may quote a connection string
            return redact_secrets(str(value), *self._secrets)
        return value


class AccessLogWithoutQueryValues(logging.Filter):
    """uvicorn's access line with the query's values masked (its path is the third arg)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], without_query_values(args[2]), *args[3:])
        return True


def install_redaction(secrets: Iterable[Secret], extra_loggers: Iterable[str] = ()) -> None:
    """A :class:`RedactingFilter` on every handler of the root logger and of *extra_loggers*."""
    redacting = RedactingFilter(secrets)
    for name in (None, *extra_loggers):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(redacting)
