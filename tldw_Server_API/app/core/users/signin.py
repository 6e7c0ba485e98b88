"""Password sign-in: login, refresh, logout, and who an access token stands for.

Every failure of :meth:`SignIn.login` is the same :class:`SignInFailed`, whether
the name is unknown, the password wrong or the account disabled, and an
unknown name costs one password verification like a known one: a caller
learns nothing about which accounts exist.

These calls hash passwords and touch the database: callers on the event loop
run them in a worker thread.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from ..DB_Management.backends.base import Database
from ..text import storable
from .passwords import MAX_PASSWORD_CHARS, Passwords, check_password
from .store import Account, Session, UserStore, token_digest
from .tokens import InvalidToken, TokenSigner, new_refresh_token

#: The longest user id (``config.USER_ID_RULE``).
MAX_USER_ID_CHARS = 40
#: The one answer to a failed sign-in (tldw_server's wording).
SIGN_IN_FAILED = "Incorrect username or password"
REFRESH_FAILED = "invalid or expired refresh token: sign in again"


def could_be_a_name(username: str) -> bool:
    """Whether *username* may name an account (else no database is asked: PostgreSQL
    refuses NUL characters in a query, and neither backend holds unpaired surrogates)."""
    try:
        storable(username)
    except ValueError:
        return False
    return len(username) <= 256


class SignInFailed(Exception):
    """Wrong credentials or an unusable refresh token; the message is safe to return."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class SignIn:
    """Sign-in against one Users database, with one token signer and token lifetimes."""

    def __init__(
        self, database: Database, signer: TokenSigner, refresh_seconds: int, passwords: Passwords
    ) -> None:
        self.store = UserStore(database)
        self.signer = signer
        self.refresh_lifetime = timedelta(seconds=refresh_seconds)
        self.passwords = passwords

    def _tokens(self, session: Session, refresh_token: str) -> Tokens:
        access = self.signer.issue(session.account.id, session.id, session.account.username)
        return Tokens(access, refresh_token, self.signer.access_seconds)

    def login(self, username: str, password: str) -> Tokens:
        found = self.store.credentials(username) if could_be_a_name(username) else None
        if found is None or len(password) > MAX_PASSWORD_CHARS:
            self.passwords.spend_time(password[:MAX_PASSWORD_CHARS])
            raise SignInFailed(SIGN_IN_FAILED)
        account, password_hash = found
        if not self.passwords.verify(password_hash, password) or not account.is_active:
            raise SignInFailed(SIGN_IN_FAILED)
        if self.passwords.needs_rehash(password_hash):
            self.store.replace_hash(account.id, self.passwords.hash(password))
        refresh = new_refresh_token()
        session = self.store.open_session(account, token_digest(refresh), self.refresh_lifetime)
        return self._tokens(session, refresh)

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a live session; the presented refresh token stops working."""
        new_refresh = new_refresh_token()
        session = self.store.rotate(
            token_digest(refresh_token), token_digest(new_refresh), self.refresh_lifetime
        )
        if session is None:
            raise SignInFailed(REFRESH_FAILED)
        return self._tokens(session, new_refresh)

    def session_of(self, access_token: str) -> Session:
        """The live session an access token belongs to; :class:`InvalidToken` if none."""
        claims = self.signer.check(access_token)
        session = self.store.live_session(claims.session_id, claims.account_id)
        if session is None:
            raise InvalidToken("the session of this access token has ended: sign in again")
        return session

    def logout(self, session: Session) -> None:
        self.store.revoke(session.id)

    def account_for(self, user_id: str) -> Account | None:
        return self.store.for_user_id(user_id)

    def register(
        self, username: str, password: str, email: str, code: str | None = None
    ) -> Account:
        """A new active account whose data lives under its name (:func:`registered_user_id`);
        :class:`.store.AccountExists` when the name is taken, :class:`.passwords.WeakPassword`
        for a password this server does not store, :class:`.codes.InvalidCode` for a
        registration *code* that cannot be used (it is used up by one)."""
        password_hash = self.passwords.hash(check_password(password))
        user_id = registered_user_id(username)
        return self.store.create(username, password_hash, user_id, email, code)


def registered_user_id(username: str) -> str:
    """The user id of a self-registered account: its (case-folded) name, or for a name longer
    than a user id may be, its first 31 characters and 8 hex digits of its digest."""
    name = username.lower()
    if len(name) <= MAX_USER_ID_CHARS:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_USER_ID_CHARS - 9]}-{digest}"


__all__ = [
    "REFRESH_FAILED",
    "SIGN_IN_FAILED",
    "SignIn",
    "SignInFailed",
    "Tokens",
    "registered_user_id",
]
