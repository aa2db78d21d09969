"""Open mode: no authentication, for the embedded, loopback-only default."""

from __future__ import annotations

import dataclasses

from starlette.requests import HTTPConnection

from collab.auth.base import AuthenticationError
from collab.auth.identity import InvalidUser, Principal, principal_from_params


class OpenAuthenticator:
    """No authentication (embedded mode): the caller names itself with the ``user`` query
    parameter or the ``X-User`` header (display name: ``name`` / ``X-User-Name``); callers
    that name nobody get a generated anonymous id."""

    async def authenticate(self, connection: HTTPConnection) -> Principal:
        params = {
            "user": connection.query_params.get("user") or connection.headers.get("x-user", ""),
            "name": connection.query_params.get("name")
            or connection.headers.get("x-user-name", ""),
        }
        try:
            # Open mode: anyone who can reach the (loopback) server may do anything.
            return dataclasses.replace(principal_from_params(params), role="owner")
        except InvalidUser as exc:
            raise AuthenticationError(str(exc), status=400) from exc
