"""Accounts and sessions in the Users database (``schemas/users.py``), on either backend.

This module only reads and writes rows: it never sees a password or a refresh
token, only their hashes (:mod:`.passwords`, :func:`token_digest`). Every
change that must not race (rotating a refresh token, revoking a session) is one
conditional ``UPDATE`` whose row count says whether it won.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, insert, select, true, update
from sqlalchemy.exc import IntegrityError

from ..DB_Management.backends.base import Database
from ..DB_Management.instants import utc_now
from ..DB_Management.stores._common import record_from_row, require_schema
from .codes import use_code

USERNAME_MAX_CHARS = 64


class AccountExists(ValueError):
    """The username, or the user id, already belongs to an account."""


class NoSuchAccount(LookupError):
    """No account has this username."""


@dataclass(frozen=True)
class Account:
    """An account as the API shows it: never its password hash."""

    id: int
    username: str
    user_id: str
    is_active: bool
    created_at: datetime
    last_login: datetime | None


@dataclass(frozen=True)
class Session:
    """A signed-in session: the account it belongs to, and until when it may be refreshed."""

    id: int
    account: Account
    expires_at: datetime


def normalize_username(username: str) -> str:
    """The stored form of a username: sign-in does not depend on letter case."""
    return username.strip().casefold()


def token_digest(token: str) -> str:
    """How a refresh token is stored: its SHA-256 (it is random, so no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class UserStore:
    """The accounts and sessions of one Users database."""

    def __init__(self, database: Database) -> None:
        require_schema(self, database, "users", "the Users database")
        self.database = database
        self.users = database.table("users")
        self.sessions = database.table("user_sessions")

    # -- accounts --------------------------------------------------------------------

    def _account(self, row: Row) -> Account:
        return record_from_row(Account, row)

    def create(
        self,
        username: str,
        password_hash: str,
        user_id: str,
        email: str | None = None,
        registration_code: str | None = None,
    ) -> Account:
        """A new active account; :class:`AccountExists` if the name or user id is taken.

        With *registration_code*, the code is used up by one in the same transaction
        (:class:`.codes.InvalidCode` when it cannot be): a refused account uses no code.
        """
        name = normalize_username(username)
        moment = utc_now()
        try:
            with self.database.begin() as conn:
                new_id = conn.execute(
                    insert(self.users)
                    .values(
                        username=name,
                        user_id=user_id,
                        password_hash=password_hash,
                        email=email,
                        is_active=True,
                        created_at=moment,
                        updated_at=moment,
                    )
                    .returning(self.users.c.id)
                ).scalar_one()
                # After the insert: a taken name answers as such, whatever the code.
                if registration_code is not None:
                    use_code(conn, registration_code, moment)
        except IntegrityError:
            raise AccountExists(
                f"an account named {name!r} or for user id {user_id!r} already exists"
            ) from None
        return Account(int(new_id), name, user_id, True, moment, None)

    def taken(self) -> tuple[set[str], set[str]]:
        """The usernames and the user ids that accounts hold."""
        with self.database.begin(write=False) as conn:
            rows = conn.execute(select(self.users.c.username, self.users.c.user_id)).all()
        return {r.username for r in rows}, {r.user_id for r in rows}

    def create_many(self, accounts: list[dict[str, Any]]) -> None:
        """New accounts (``username`` case-folded, ``user_id``, ``password_hash``, ``email``,
        ``is_active``) in one transaction: all or none (:class:`AccountExists`)."""
        if not accounts:
            return
        moment = utc_now()
        rows = [
            a | {"username": normalize_username(a["username"]), "created_at": moment}
            for a in accounts
        ]
        try:
            with self.database.begin() as conn:
                conn.execute(insert(self.users), [r | {"updated_at": moment} for r in rows])
        except IntegrityError:
            raise AccountExists("an account's name or user id was taken meanwhile") from None

    def credentials(self, username: str) -> tuple[Account, str] | None:
        """The account of *username* with its password hash (for sign-in only), or None."""
        with self.database.begin(write=False) as conn:
            row = conn.execute(
                select(self.users).where(self.users.c.username == normalize_username(username))
            ).first()
        return None if row is None else (self._account(row), row.password_hash)

    def get(self, username: str) -> Account:
        found = self.credentials(username)
        if found is None:
            raise NoSuchAccount(f"no account is named {normalize_username(username)!r}")
        return found[0]

    def for_user_id(self, user_id: str) -> Account | None:
        with self.database.begin(write=False) as conn:
            row = conn.execute(select(self.users).where(self.users.c.user_id == user_id)).first()
        return None if row is None else self._account(row)

    def accounts(self) -> list[Account]:
        with self.database.begin(write=False) as conn:
            rows = conn.execute(select(self.users).order_by(self.users.c.id)).all()
        return [self._account(row) for row in rows]

    def user_ids(self) -> list[str]:
        """The user ids of every active account (whose databases the server opens)."""
        with self.database.begin(write=False) as conn:
            query = select(self.users.c.user_id).where(self.users.c.is_active == true())
            return sorted(str(uid) for uid in conn.execute(query).scalars())

    def _update_account(self, username: str, **values: object) -> Account:
        name = normalize_username(username)
        with self.database.begin() as conn:
            changed = conn.execute(
                update(self.users)
                .where(self.users.c.username == name)
                .values(updated_at=utc_now(), **values)
            ).rowcount
        if changed != 1:
            raise NoSuchAccount(f"no account is named {name!r}")
        return self.get(name)

    def set_password(self, username: str, password_hash: str) -> Account:
        """A new password; every session of the account ends (whoever held one must sign in)."""
        account = self._update_account(username, password_hash=password_hash)
        self.revoke_all(account.id)
        return account

    def set_active(self, username: str, active: bool) -> Account:
        """Enable or disable sign-in; disabling ends every session of the account."""
        account = self._update_account(username, is_active=active)
        if not active:
            self.revoke_all(account.id)
        return account

    def replace_hash(self, account_id: int, password_hash: str) -> None:
        """Store a re-hash of the same password (stronger parameters); sessions stay."""
        with self.database.begin() as conn:
            conn.execute(
                update(self.users)
                .where(self.users.c.id == account_id)
                .values(password_hash=password_hash)
            )

    # -- sessions --------------------------------------------------------------------

    def open_session(self, account: Account, token_hash: str, lifetime: timedelta) -> Session:
        """A new session holding the refresh token of *token_hash*; records the sign-in."""
        moment = utc_now()
        expires = moment + lifetime
        with self.database.begin() as conn:
            session_id = conn.execute(
                insert(self.sessions)
                .values(
                    account_id=account.id,
                    token_hash=token_hash,
                    created_at=moment,
                    expires_at=expires,
                )
                .returning(self.sessions.c.id)
            ).scalar_one()
            conn.execute(
                update(self.users).where(self.users.c.id == account.id).values(last_login=moment)
            )
        return Session(int(session_id), account, expires)

    def _live(self) -> list[ColumnElement[bool]]:
        return [self.sessions.c.revoked_at.is_(None), self.users.c.is_active == true()]

    def _session_query(self) -> Select[Any]:
        return select(
            self.sessions.c.id.label("session_id"),
            self.sessions.c.expires_at,
            *self.users.c,
        ).join(self.users, self.users.c.id == self.sessions.c.account_id)

    def live_session(self, session_id: int, account_id: int) -> Session | None:
        """The session if it is neither revoked, expired, nor of a disabled account."""
        query = self._session_query().where(
            self.sessions.c.id == session_id,
            self.sessions.c.account_id == account_id,
            self.sessions.c.expires_at > utc_now(),
            *self._live(),
        )
        with self.database.begin(write=False) as conn:
            row = conn.execute(query).first()
        return None if row is None else Session(row.session_id, self._account(row), row.expires_at)

    def rotate(self, old_hash: str, new_hash: str, lifetime: timedelta) -> Session | None:
        """Swap a live session's refresh token for a new one; None if *old_hash* is not current.

        A refresh token that was already swapped and is presented again was copied:
        its session is revoked, so neither the thief nor the owner keeps it.
        """
        moment = utc_now()
        with self.database.begin() as conn:
            row = conn.execute(
                self._session_query().where(
                    self.sessions.c.token_hash == old_hash,
                    self.sessions.c.expires_at > moment,
                    *self._live(),
                )
            ).first()
            if row is None:
                conn.execute(
                    update(self.sessions)
                    .where(self.sessions.c.previous_token_hash == old_hash)
                    .where(self.sessions.c.revoked_at.is_(None))
                    .values(revoked_at=moment)
                )
                return None
            expires = moment + lifetime
            swapped = conn.execute(
                update(self.sessions)
                .where(
                    and_(
                        self.sessions.c.id == row.session_id,
                        self.sessions.c.token_hash == old_hash,
                    )
                )
                .values(
                    token_hash=new_hash,
                    previous_token_hash=old_hash,
                    rotated_at=moment,
                    expires_at=expires,
                )
            ).rowcount
        if swapped != 1:  # a concurrent refresh with the same token won
            return None
        return Session(int(row.session_id), self._account(row), expires)

    def _revoke(self, which: ColumnElement[bool]) -> None:
        with self.database.begin() as conn:
            conn.execute(
                update(self.sessions)
                .where(which, self.sessions.c.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            )

    def revoke(self, session_id: int) -> None:
        self._revoke(self.sessions.c.id == session_id)

    def revoke_all(self, account_id: int) -> None:
        self._revoke(self.sessions.c.account_id == account_id)


__all__ = [
    "Account",
    "AccountExists",
    "NoSuchAccount",
    "Session",
    "UserStore",
    "normalize_username",
    "token_digest",
]
