"""Accounts in token mode, as the tests make them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


async def register(http: httpx.AsyncClient, name: str) -> str:
    """Register ``name`` and return its access token."""
    r = await http.post("/api/auth/register", json={"name": name, "password": "pw-" + name * 3})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class SharedDocument:
    """A document ``owner`` created, with ``editors`` (name -> token) as members and an
    editor share ``link`` (the API's JSON: ``id``, ``token``, ...)."""

    owner: str
    editors: dict[str, str]
    link: dict[str, Any]


async def shared_document(
    http: httpx.AsyncClient, doc: str, owner: str = "olivia", editors: tuple[str, ...] = ()
) -> SharedDocument:
    """Register ``owner`` and ``editors``, create ``doc``, add the editors as members and
    create an editor share link, all through the REST API of ``http``."""
    owner_token = await register(http, owner)
    tokens = {name: await register(http, name) for name in editors}
    r = await http.post("/api/docs", json={"id": doc}, headers=bearer(owner_token))
    assert r.is_success, r.text
    for name in editors:
        r = await http.post(
            f"/api/docs/{doc}/members",
            json={"user": name, "role": "editor"},
            headers=bearer(owner_token),
        )
        assert r.status_code == 200, r.text
    r = await http.post(
        f"/api/docs/{doc}/links", json={"role": "editor"}, headers=bearer(owner_token)
    )
    assert r.status_code == 201, r.text
    return SharedDocument(owner_token, tokens, r.json())
