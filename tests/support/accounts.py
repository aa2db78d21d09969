"""Accounts in token mode, as the tests make them."""

from __future__ import annotations

import httpx


async def register(http: httpx.AsyncClient, name: str) -> str:
    """Register ``name`` and return its access token."""
    r = await http.post("/api/auth/register", json={"name": name, "password": "pw-" + name * 3})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
