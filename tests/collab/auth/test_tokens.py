from __future__ import annotations

import time

import jwt
import pytest

from collab.auth.passwords import hash_password, verify_password
from collab.auth.tokens import TokenExpired, TokenInvalid, TokenIssuer, TokenType

SECRET = "s" * 40


def test_access_token_round_trip() -> None:
    issuer = TokenIssuer(SECRET)
    claims = issuer.verify(issuer.access("alice", "Alice"), types=(TokenType.ACCESS,))
    assert (claims.subject, claims.name, claims.type) == ("alice", "Alice", TokenType.ACCESS)
    assert claims.expires_at is not None and claims.expires_at > time.time()


def test_expired_forged_and_wrong_type_tokens_are_refused() -> None:
    issuer = TokenIssuer(SECRET, access_ttl=-1)
    with pytest.raises(TokenExpired, match="expired"):
        issuer.verify(issuer.access("a", "A"), types=(TokenType.ACCESS,))
    other = TokenIssuer("x" * 40)
    with pytest.raises(TokenInvalid, match="Signature"):
        TokenIssuer(SECRET).verify(other.access("a", "A"), types=(TokenType.ACCESS,))
    good = TokenIssuer(SECRET)
    with pytest.raises(TokenInvalid, match="refresh token cannot be used here"):
        good.verify(good.refresh("a", "A"), types=(TokenType.ACCESS,))
    unsigned = jwt.encode(
        {"sub": "a", "typ": "access", "jti": "j", "iss": "nexus-canvas"}, None, algorithm="none"
    )
    with pytest.raises(TokenInvalid):
        good.verify(unsigned, types=(TokenType.ACCESS,))
    with pytest.raises(TokenInvalid):
        good.verify("not.a.token", types=(TokenType.ACCESS,))


def test_share_tokens_carry_document_and_role() -> None:
    issuer = TokenIssuer(SECRET)
    token = issuer.share("link1", "doc-a", "viewer", expires_at=time.time() + 60)
    claims = issuer.verify(token, types=(TokenType.SHARE,))
    assert (claims.doc_id, claims.role, claims.subject) == ("doc-a", "viewer", "link1")


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes, got 5"):
        TokenIssuer("short")


def test_passwords_hash_and_verify() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong horse!")
    assert not verify_password("garbage", "correct horse")
    with pytest.raises(ValueError, match="8-256 characters, got 3"):
        hash_password("abc")
