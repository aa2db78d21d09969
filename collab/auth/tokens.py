"""Signed tokens (JWT, HS256): short-lived access tokens, refresh tokens, service tokens for
workers and bots, and share-link tokens that grant one role on one document.

Every token names its ``typ``; a token of one type is never accepted as another (a refresh
token is not an access token, a share link for document A says nothing about document B).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt

_ALGORITHM = "HS256"
_ISSUER = "nexus-canvas"
_MIN_SECRET_BYTES = 32


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    SERVICE = "service"
    SHARE = "share"


class TokenError(Exception):
    """A token was refused; the message says why (never echoing the token itself)."""


class TokenExpired(TokenError):
    pass


class TokenInvalid(TokenError):
    pass


@dataclass(frozen=True)
class Claims:
    type: TokenType
    subject: str  # user id, service name, or share-link id
    name: str
    token_id: str
    expires_at: float | None
    doc_id: str | None = None  # share links only
    role: str | None = None  # share links only


class TokenIssuer:
    """Issues and verifies the server's tokens with one secret."""

    def __init__(
        self, secret: str, *, access_ttl: float = 900.0, refresh_ttl: float = 30 * 86400.0
    ) -> None:
        if len(secret.encode()) < _MIN_SECRET_BYTES:
            raise ValueError(
                f"the token secret must be at least {_MIN_SECRET_BYTES} bytes, "
                f"got {len(secret.encode())}"
            )
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def access(self, user_id: str, name: str) -> str:
        return self._issue(TokenType.ACCESS, user_id, name, self.access_ttl)

    def refresh(self, user_id: str, name: str) -> str:
        return self._issue(TokenType.REFRESH, user_id, name, self.refresh_ttl)

    def service(self, name: str, *, ttl: float | None = None) -> str:
        """A token for a worker or bot; ``ttl`` None means it does not expire."""
        return self._issue(TokenType.SERVICE, f"service:{name}", name, ttl)

    def share(self, link_id: str, doc_id: str, role: str, *, expires_at: float | None) -> str:
        ttl = None if expires_at is None else max(0.0, expires_at - time.time())
        return self._issue(
            TokenType.SHARE, link_id, f"link {link_id[:8]}", ttl, doc=doc_id, role=role
        )

    def verify(self, token: str, *, types: tuple[TokenType, ...]) -> Claims:
        try:
            raw: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["sub", "typ", "jti", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("token expired: log in again or refresh it") from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"invalid token: {exc}") from None
        try:
            kind = TokenType(raw["typ"])
        except ValueError:
            raise TokenInvalid(f"invalid token: unknown type {raw['typ']!r}") from None
        if kind not in types:
            expected = " or ".join(t.value for t in types)
            raise TokenInvalid(f"this {kind.value} token cannot be used here (expected {expected})")
        return Claims(
            type=kind,
            subject=str(raw["sub"]),
            name=str(raw.get("name", raw["sub"])),
            token_id=str(raw["jti"]),
            expires_at=float(raw["exp"]) if "exp" in raw else None,
            doc_id=raw.get("doc"),
            role=raw.get("role"),
        )

    def _issue(
        self, kind: TokenType, subject: str, name: str, ttl: float | None, **extra: str
    ) -> str:
        now = time.time()
        payload: dict[str, Any] = {
            "iss": _ISSUER,
            "typ": kind.value,
            "sub": subject,
            "name": name,
            "jti": uuid.uuid4().hex,
            "iat": int(now),
            **extra,
        }
        if ttl is not None:
            payload["exp"] = now + ttl
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)
