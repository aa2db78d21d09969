"""People appear by display name (not by account id) in members, owners, links and refusals;
a refusal for lack of a role answers 403 ``forbidden``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from collab.settings import Settings
from tests.support.servers import RunningServer, serve, settings_for

SECRET = "names-secret-" + "n" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, auth_secret=SECRET)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


async def _account(http: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    r = await http.post("/api/auth/register", json={"name": name, "password": "pw-" + name * 3})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["user"]["id"], {"Authorization": f"Bearer {body['access_token']}"}


async def test_members_owner_and_links_carry_display_names(http: httpx.AsyncClient) -> None:
    olivia_id, olivia = await _account(http, "olivia")
    victor_id, _ = await _account(http, "victor")
    erin_id, _ = await _account(http, "Erin")
    assert olivia_id != "olivia"  # account ids are not names
    assert (await http.post("/api/docs", json={"id": "plan"}, headers=olivia)).status_code == 201
    for name, role in (("victor", "viewer"), ("Erin", "editor")):
        r = await http.post(
            "/api/docs/plan/members", json={"user": name, "role": role}, headers=olivia
        )
        assert r.status_code == 200, r.text

    r = await http.get("/api/docs/plan/members", headers=olivia)
    assert r.status_code == 200
    assert r.json() == {
        "owner": {"id": olivia_id, "name": "olivia"},
        "members": [  # by name, case-insensitively
            {"id": erin_id, "name": "Erin", "role": "editor"},
            {"id": victor_id, "name": "victor", "role": "viewer"},
        ],
    }
    doc = (await http.get("/api/docs/plan", headers=olivia)).json()
    assert (doc["owner"], doc["owner_name"]) == (olivia_id, "olivia")
    listed = (await http.get("/api/docs", headers=olivia)).json()["documents"]
    assert [(d["id"], d["owner_name"]) for d in listed] == [("plan", "olivia")]

    r = await http.post("/api/docs/plan/links", json={"role": "viewer"}, headers=olivia)
    assert r.status_code == 201 and r.json()["created_by_name"] == "olivia"
    links = (await http.get("/api/docs/plan/links", headers=olivia)).json()["links"]
    assert [link["created_by_name"] for link in links] == ["olivia"]

    r = await http.delete(f"/api/docs/plan/members/{olivia_id}", headers=olivia)
    assert r.status_code == 404 and r.json()["message"] == "'olivia' is not a member of 'plan'"


async def test_refusals_say_forbidden_and_name_the_person(http: httpx.AsyncClient) -> None:
    _, owner = await _account(http, "oscar")
    sam_id, sam = await _account(http, "sam")
    _, vic = await _account(http, "vic")
    await http.post("/api/docs", json={"id": "secret"}, headers=owner)
    await http.post(
        "/api/docs/secret/members", json={"user": "vic", "role": "viewer"}, headers=owner
    )

    r = await http.get("/api/docs/secret", headers=sam)
    assert r.status_code == 403
    assert r.json() == {
        "error": "forbidden",
        "message": "'sam' may not view document 'secret' (role: none; needs viewer)",
    }
    assert sam_id not in r.text
    r = await http.post("/api/docs/secret/undo", headers=vic)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert r.json()["message"].startswith("'vic' may not edit document 'secret'")
    r = await http.get("/api/docs/secret/members", headers=vic)
    assert r.status_code == 403 and "'vic' may not administer" in r.json()["message"]

    r = await http.get("/api/docs/secret", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


async def test_open_mode_names_and_bad_users(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path)) as srv,
        httpx.AsyncClient(base_url=srv.http_url) as http,
    ):
        r = await http.post("/api/docs?user=ann&name=Ann%20B", json={"id": "open-doc"})
        assert r.status_code == 201
        assert r.json()["owner_name"] == "ann"  # open mode keeps no accounts: the id
        r = await http.get("/api/docs/open-doc?user=bad%20user")
        assert r.status_code == 400 and r.json()["error"] == "bad_user"
        r = await http.post("/api/docs/open-doc/undo?user=bob&name=Bob%20C")
        assert r.status_code == 409
        assert r.json()["message"] == "'Bob C' has nothing to undo in document 'open-doc'"
