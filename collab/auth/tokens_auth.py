"""Token mode: every caller presents a signed token (user, service or share link)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from collab.auth.base import AuthenticationError, bearer_token
from collab.auth.identity import Principal
from collab.auth.tokens import TokenError, TokenIssuer, TokenType

_ACCEPTED = (TokenType.ACCESS, TokenType.SERVICE, TokenType.SHARE)


class TokenAuthenticator:
    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    async def authenticate(self, connection: HTTPConnection) -> Principal:
        token = bearer_token(connection)
        if token is None:
            raise AuthenticationError(
                "authentication required: send 'Authorization: Bearer <token>', the WebSocket "
                "subprotocol 'nexus.token.<token>' or ?token=<token>"
            )
        try:
            claims = self.issuer.verify(token, types=_ACCEPTED)
        except TokenError as exc:
            raise AuthenticationError(str(exc)) from None
        if claims.type is TokenType.SERVICE:
            return Principal(claims.subject, claims.name, role="editor", service=True)
        if claims.type is TokenType.SHARE:
            return Principal(
                f"link:{claims.subject}",
                claims.name,
                role=None,
                link_id=claims.subject,
                doc_scope=claims.doc_id,
            )
        return Principal(claims.subject, claims.name, role=None)
