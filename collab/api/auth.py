"""Accounts: register, log in, refresh (token mode only)."""

from __future__ import annotations

import re
import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.api._common import json_body, server_of
from collab.api.errors import ApiError
from collab.auth.passwords import check_password_policy, hash_password, verify_password
from collab.auth.tokens import TokenError, TokenIssuer, TokenType
from persistence.access import DuplicateUser, UserNotFound, UserRecord

_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")


def _issuer(request: Request) -> TokenIssuer:
    issuer = server_of(request).issuer
    if issuer is None:
        raise ApiError(
            409,
            "open_mode",
            "this server runs in open mode (no NEXUS_AUTH_SECRET): there are no accounts",
        )
    return issuer


def _tokens(issuer: TokenIssuer, user: UserRecord) -> JSONResponse:
    return JSONResponse(
        {
            "user": {"id": user.id, "name": user.name},
            "access_token": issuer.access(user.id, user.name),
            "refresh_token": issuer.refresh(user.id, user.name),
            "token_type": "bearer",
            "expires_in": int(issuer.access_ttl),
        }
    )


async def _credentials(request: Request) -> tuple[str, str]:
    body = await json_body(request)
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ApiError(
            422, "invalid", f"name must be 3-40 letters, digits or _.- , got {str(name)[:60]!r}"
        )
    if not isinstance(password, str):
        raise ApiError(422, "invalid", "password must be a string")
    return name, password


async def register(request: Request) -> JSONResponse:
    """
    ---
    summary: Create an account and log in
    tags: [auth]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [name, password]
            properties:
              name: {type: string, pattern: "^[A-Za-z0-9_.-]{3,40}$"}
              password: {type: string, minLength: 8, maxLength: 256}
    responses:
      200:
        description: "The account and its tokens (docs/security.md)"
        content:
          application/json:
            schema:
              type: object
              required: [user, access_token, refresh_token, token_type, expires_in]
              properties:
                user:
                  type: object
                  required: [id, name]
                  properties: {id: {type: string}, name: {type: string}}
                access_token: {type: string, description: "JWT; send as Authorization: Bearer"}
                refresh_token: {type: string, description: JWT for POST /api/auth/refresh}
                token_type: {type: string, enum: [bearer]}
                expires_in: {type: integer, description: the access token's lifetime (seconds)}
      409: {description: "name_taken: the name has an account; open_mode: no accounts here"}
      422: {description: "invalid: a bad name or password (the message says which)"}
    """
    issuer = _issuer(request)
    name, password = await _credentials(request)
    try:
        check_password_policy(password)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    user = UserRecord(uuid.uuid4().hex, name, hash_password(password), time.time())
    try:
        await server_of(request).access_store.create_user(user)
    except DuplicateUser as exc:
        raise ApiError(409, "name_taken", str(exc)) from None
    return _tokens(issuer, user)


async def login(request: Request) -> JSONResponse:
    """
    ---
    summary: Log in with name and password
    tags: [auth]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [name, password]
            properties:
              name: {type: string, pattern: "^[A-Za-z0-9_.-]{3,40}$"}
              password: {type: string}
    responses:
      200:
        description: "The account and its tokens (docs/security.md)"
        content:
          application/json:
            schema:
              type: object
              required: [user, access_token, refresh_token, token_type, expires_in]
              properties:
                user:
                  type: object
                  required: [id, name]
                  properties: {id: {type: string}, name: {type: string}}
                access_token: {type: string, description: "JWT; send as Authorization: Bearer"}
                refresh_token: {type: string, description: JWT for POST /api/auth/refresh}
                token_type: {type: string, enum: [bearer]}
                expires_in: {type: integer, description: the access token's lifetime (seconds)}
      401: {description: "bad_credentials: wrong name or password"}
      409: {description: "open_mode: there are no accounts"}
      422: {description: malformed name or password}
    """
    issuer = _issuer(request)
    name, password = await _credentials(request)
    try:
        user = await server_of(request).access_store.user_by_name(name)
    except UserNotFound:
        user = None
    if user is None or not verify_password(user.password_hash, password):
        raise ApiError(401, "bad_credentials", "wrong name or password")
    return _tokens(issuer, user)


async def refresh(request: Request) -> JSONResponse:
    """
    ---
    summary: Exchange a refresh token for a new access token
    tags: [auth]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [refresh_token]
            properties:
              refresh_token: {type: string}
    responses:
      200:
        description: A new access token (the refresh token stays valid until it expires)
        content:
          application/json:
            schema:
              type: object
              required: [access_token, token_type, expires_in]
              properties:
                access_token: {type: string}
                token_type: {type: string, enum: [bearer]}
                expires_in: {type: integer}
      401: {description: "bad_token: the refresh token is expired, forged or not a refresh token"}
      409: {description: "open_mode: there are no accounts"}
      422: {description: refresh_token missing or not a string}
    """
    issuer = _issuer(request)
    body = await json_body(request)
    token = body.get("refresh_token")
    if not isinstance(token, str):
        raise ApiError(422, "invalid", "refresh_token must be a string")
    try:
        claims = issuer.verify(token, types=(TokenType.REFRESH,))
    except TokenError as exc:
        raise ApiError(401, "bad_token", str(exc)) from None
    return JSONResponse(
        {
            "access_token": issuer.access(claims.subject, claims.name),
            "token_type": "bearer",
            "expires_in": int(issuer.access_ttl),
        }
    )


routes = [
    Route("/api/auth/register", register, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
]
