"""Access tokens: JWTs signed with ``JWT_SECRET_KEY`` (HS256, PyJWT); refresh tokens: random.

An access token says which account (``sub``) and which session (``sid``) it was
issued to, and until when it is valid (``exp``). The server still checks, on
every request, that the session was not revoked (logout, a new password, a
disabled account): the token alone is never enough.

A refresh token is 256 random bits with no meaning of its own; the server keeps
only its digest and swaps it for a new one on every refresh.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import jwt

ALGORITHM = "HS256"
ISSUER = "tldw_server"
ACCESS = "access"


EXPIRED = "the access token has expired: refresh it or sign in again"


class InvalidToken(ValueError):
    """A token that is forged, malformed, expired or of the wrong kind; the message says which."""


@dataclass(frozen=True)
class AccessClaims:
    account_id: int
    session_id: int


@dataclass
class TokenSigner:
    """Issues and checks access tokens with one secret."""

    secret: str = field(repr=False)
    access_seconds: int
    generated: bool = False
    """Whether the secret was generated for this run (no ``JWT_SECRET_KEY``)."""

    def issue(self, account_id: int, session_id: int, username: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": str(account_id),
            "sid": session_id,
            "username": username,
            "type": ACCESS,
            "iat": now,
            "exp": now + self.access_seconds,
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def check(self, token: str) -> AccessClaims:
        """The claims of a valid access token, or :class:`InvalidToken`."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(
                "the access token has expired: refresh it or sign in again"
            ) from None
        except jwt.PyJWTError:
            raise InvalidToken("invalid access token") from None
        sid, sub = claims.get("sid"), claims.get("sub")
        if claims.get("type") != ACCESS or not isinstance(sid, int) or not str(sub).isdigit():
            raise InvalidToken("invalid access token")
        return AccessClaims(account_id=int(str(sub)), session_id=sid)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def looks_like_jwt(token: str) -> bool:
    """A compact JWS: three base64url parts, the first a JSON object (``eyJ``)."""
    return token.startswith("eyJ") and token.count(".") == 2


__all__ = ["AccessClaims", "InvalidToken", "TokenSigner", "looks_like_jwt", "new_refresh_token"]
