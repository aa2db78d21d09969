"""``GET /api/docs`` lists what the caller may see, in full pages, stable under creation."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from collab.auth.identity import Principal
from persistence import DocumentRecord, store_from_url
from tests.support.accounts import bearer, register
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.services import postgres_schema, require_postgres
from tests.support.waiting import eventually

SECRET = "test-secret-" + "k" * 32


@pytest.fixture(params=["sqlite", "postgres"])
async def token_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[RunningServer]:
    """A token-mode server on SQLite or on this test's own Postgres schema."""
    settings = settings_for(tmp_path, auth_secret=SECRET)
    if request.param == "sqlite":
        async with serve(settings) as srv:
            yield srv
        return
    url = require_postgres()
    async with (
        postgres_schema(url) as schema,
        serve(settings, store=store_from_url(url, schema=schema)) as srv,
    ):
        yield srv


@pytest.fixture
async def http(token_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=token_server.http_url, timeout=60) as client:
        yield client


async def _user_id(srv: RunningServer, name: str) -> str:
    return (await srv.server.access_store.user_by_name(name)).id


async def _page(http: httpx.AsyncClient, token: str, query: str) -> dict[str, Any]:
    r = await http.get(f"/api/docs?{query}", headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_pages_are_full_and_stable_while_documents_are_created(
    token_server: RunningServer, http: httpx.AsyncClient
) -> None:
    srv = token_server
    alice, bob = await register(http, "alice"), await register(http, "bob")
    await register(http, "carol")
    ids = {name: await _user_id(srv, name) for name in ("alice", "bob", "carol")}
    store, access = srv.server.store, srv.server.access_store
    start = time.time() - 3600
    alice_sees: list[str] = []
    for i in range(250):
        doc_id = f"doc{i:03}"
        kind = i % 25  # 12 of every 25 are alice's: 6 owned, 6 shared with her
        owner = ["alice", "bob", "carol", None][0 if kind < 6 else 1 + kind % 3]
        # Pairs share a created_at: ties are ordered by id.
        await store.create_document(
            DocumentRecord(
                id=doc_id,
                owner=None if owner is None else ids[owner],
                name=doc_id,
                created_at=start + i // 2,
                updated_at=start + i // 2,
            )
        )
        if 6 <= kind < 12:
            await access.set_role(doc_id, ids["alice"], ("viewer", "editor", "owner")[kind % 3])
        elif kind >= 20:
            await access.set_role(doc_id, ids["carol"], "editor")  # someone else's share
        if kind < 12:
            alice_sees.append(doc_id)
    assert len(alice_sees) == 120

    created = {"bob": 0, "early": 0}
    stop = asyncio.Event()

    async def create_meanwhile() -> None:
        """Bob creates documents alice may not see (through the API); documents of alice's
        arrive stamped before every other (another instance's clock behind), which would
        shift an offset and repeat a listed document."""
        for n in itertools.count():
            if stop.is_set():
                return
            r = await http.post("/api/docs", json={"id": f"bob-new{n}"}, headers=bearer(bob))
            assert r.status_code == 201, r.text
            created["bob"] += 1
            early = start - 1 - n
            await store.create_document(
                DocumentRecord(
                    id=f"early{n}",
                    owner=ids["alice"],
                    name="early",
                    created_at=early,
                    updated_at=early,
                )
            )
            created["early"] += 1

    creator = asyncio.create_task(create_meanwhile())
    try:
        pages: list[list[str]] = []
        query = "limit=50"
        while True:
            body = await _page(http, alice, query)
            pages.append([d["id"] for d in body["documents"]])
            if body["next_cursor"] is None:
                break
            # The first page is also offset 0; pages after a cursor have no offset.
            assert body["next_offset"] == (50 if len(pages) == 1 else None)
            # Let documents be created between this page and the next.
            target = created["early"] + 3
            await eventually(lambda: created["early"] >= target)  # noqa: B023 - awaited here
            query = f"limit=50&cursor={body['next_cursor']}"
    finally:
        stop.set()
        await creator
    assert [len(p) for p in pages] == [50, 50, 20]
    listed = [doc_id for p in pages for doc_id in p]
    assert len(set(listed)) == len(listed)
    assert listed == alice_sees  # in (created_at, id) order, none skipped, none added
    assert created["bob"] >= 6 and created["early"] >= 6

    # The rule is role_for's: listed exactly when alice may open the document.
    principal = Principal(ids["alice"], "alice", role=None)
    may_open = [
        doc_id
        for doc_id in (f"doc{i:03}" for i in range(250))
        if await srv.server.access.role_for(principal, doc_id) is not None
    ]
    assert may_open == alice_sees
    # Listed from the start again, the early ones are there, before the rest.
    fresh = await _page(http, alice, "limit=1000")
    early = [f"early{n}" for n in reversed(range(created["early"]))]
    assert [d["id"] for d in fresh["documents"]] == early + alice_sees


async def test_documents_created_after_the_cursor_appear_on_later_pages(
    token_server: RunningServer, http: httpx.AsyncClient
) -> None:
    alice = await register(http, "alice")
    for n in range(10):
        r = await http.post("/api/docs", json={"id": f"old{n}"}, headers=bearer(alice))
        assert r.status_code == 201, r.text
    pages: list[list[str]] = []
    query = "limit=4"
    for n in itertools.count():
        body = await _page(http, alice, query)
        pages.append([d["id"] for d in body["documents"]])
        if body["next_cursor"] is None:
            break
        if n < 2:  # newest documents sort last: the cursor reaches them
            r = await http.post("/api/docs", json={"id": f"new{n}"}, headers=bearer(alice))
            assert r.status_code == 201, r.text
        query = f"limit=4&cursor={body['next_cursor']}"
    listed = [doc_id for p in pages for doc_id in p]
    assert listed == [f"old{n}" for n in range(10)] + ["new0", "new1"]
    assert [len(p) for p in pages] == [4, 4, 4]


async def test_offset_counts_the_documents_the_caller_may_see(
    token_server: RunningServer, http: httpx.AsyncClient
) -> None:
    alice, bob = await register(http, "alice"), await register(http, "bob")
    for n in range(6):
        # Interleaved: bob's documents used to leave holes in alice's pages.
        for token, who in ((bob, "b"), (alice, "a")):
            r = await http.post("/api/docs", json={"id": f"{who}{n}"}, headers=bearer(token))
            assert r.status_code == 201, r.text
    first = await _page(http, alice, "limit=4")
    assert [d["id"] for d in first["documents"]] == ["a0", "a1", "a2", "a3"]
    assert (first["offset"], first["next_offset"]) == (0, 4)
    rest = await _page(http, alice, "limit=4&offset=4")
    assert [d["id"] for d in rest["documents"]] == ["a4", "a5"]
    assert (rest["offset"], rest["next_offset"], rest["next_cursor"]) == (4, None, None)
    by_cursor = await _page(http, alice, f"limit=4&cursor={first['next_cursor']}")
    assert [d["id"] for d in by_cursor["documents"]] == ["a4", "a5"]
    assert (by_cursor["offset"], by_cursor["next_offset"]) == (0, None)
    skipping = await _page(http, alice, f"limit=4&offset=1&cursor={first['next_cursor']}")
    assert [d["id"] for d in skipping["documents"]] == ["a5"]


async def test_a_share_link_lists_its_document_while_active(
    token_server: RunningServer, http: httpx.AsyncClient
) -> None:
    alice = await register(http, "alice")
    for doc_id in ("one", "two"):
        r = await http.post("/api/docs", json={"id": doc_id}, headers=bearer(alice))
        assert r.status_code == 201, r.text
    r = await http.post("/api/docs/two/links", json={"role": "viewer"}, headers=bearer(alice))
    assert r.status_code == 201, r.text
    link = r.json()
    listed = await _page(http, link["token"], "limit=1")
    assert [d["id"] for d in listed["documents"]] == ["two"]
    assert listed["next_cursor"] is None
    assert (await _page(http, link["token"], "offset=1"))["documents"] == []
    r = await http.delete(f"/api/docs/two/links/{link['id']}", headers=bearer(alice))
    assert r.status_code == 200, r.text
    r = await http.get("/api/docs", headers=bearer(link["token"]))
    # A revoked link's token is refused outright or lists nothing.
    assert r.status_code in (401, 403) or r.json()["documents"] == []


async def test_open_mode_pages_every_document_and_names_bad_parameters(
    tmp_path: Path,
) -> None:
    async with (
        serve(settings_for(tmp_path)) as srv,
        httpx.AsyncClient(base_url=srv.http_url, timeout=60) as http,
    ):
        for n in range(5):
            r = await http.post(f"/api/docs?user={'ab'[n % 2]}", json={"id": f"d{n}"})
            assert r.status_code == 201, r.text
        seen: list[str] = []
        query: str | None = "limit=2"
        while query is not None:
            body = (await http.get(f"/api/docs?{query}&user=cat")).json()
            seen += [d["id"] for d in body["documents"]]
            cursor = body["next_cursor"]
            query = None if cursor is None else f"limit=2&cursor={cursor}"
        assert seen == [f"d{n}" for n in range(5)]

        # Any key the pattern admits is a place in the order, even one no document has.
        for cursor, expected in [
            ("0x1.fp999~a", []),
            ("-0x1.fp999~a", seen),
            ("0x0.0p0~zz", seen),
        ]:
            body = (await http.get("/api/docs", params={"cursor": cursor})).json()
            assert [d["id"] for d in body["documents"]] == expected, cursor
        for query, message in [
            ("cursor=not-a-cursor", "cursor must be a next_cursor from GET /api/docs, got 'not-a-"),
            ("cursor=0x1.8p3~", "got '0x1.8p3~'"),  # no id
            ("cursor=0x1.8p1000~d1", "got '0x1.8p1000~d1'"),  # not a finite time
            ("cursor=0x1.8p3~d1%0A", "got '0x1.8p3~d1\\n'"),
            ("cursor=", "got ''"),
            ("cursor=" + "A" * 500, "got 'AAAA"),
            ("offset=-1", "offset must be an integer from 0"),
        ]:
            r = await http.get(f"/api/docs?{query}")
            assert r.status_code == 422, (query, r.text)
            assert message in r.json()["message"], query
