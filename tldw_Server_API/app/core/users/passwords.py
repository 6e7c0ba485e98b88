"""Password hashing: Argon2id through ``argon2-cffi``, with its RFC 9106 parameters.

Argon2id is the password hash OWASP recommends first; ``argon2-cffi`` is the
maintained binding of the reference implementation, and its ``PasswordHasher``
writes the parameters into each hash, so stronger future defaults re-hash old
passwords at their next sign-in (:meth:`Passwords.needs_rehash`).

Sign-in with an unknown username verifies against a dummy hash, so that it
takes as long as a wrong password: the time says nothing about which names exist.
"""

from __future__ import annotations

import secrets
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


class WeakPassword(ValueError):
    """A password the server refuses to store."""


def check_password(password: str) -> str:
    """*password* if it may be stored, else :class:`WeakPassword` saying why (never echoing it)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    if "\x00" in password:
        raise WeakPassword("the password must not contain a NUL character")
    return password


def _utf8(password: str) -> bytes:
    # Any text a request can carry, unpaired surrogates included, hashes without an error.
    return password.encode("utf-8", "surrogatepass")


class Passwords:
    """Hashes and verifies passwords."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(_utf8(check_password(password)))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, _utf8(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    def spend_time(self, password: str) -> None:
        """Verify *password* against a hash nothing matches (the unknown-user case)."""
        self.verify(self._dummy_hash, password)


__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "Passwords",
    "WeakPassword",
    "check_password",
]
