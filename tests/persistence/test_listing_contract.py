"""Keyset listing of documents, all of them and those a user may see, on every store kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from persistence import DocumentRecord, Store
from persistence.access import AccessStore, access_for
from persistence.documents import DocumentKey, document_key

# A present-day epoch with microseconds: Postgres stores timestamptz, and a listed key must
# find its own row again exactly.
BASE = 1_764_000_000.123457

Page = Callable[[DocumentKey | None, int], Awaitable[list[DocumentRecord]]]


@pytest.fixture
async def access(store: Store) -> AsyncIterator[AccessStore]:
    a = access_for(store)
    await a.prepare()
    yield a


async def _create(store: Store, doc_id: str, at: float, owner: str | None = None) -> None:
    await store.create_document(
        DocumentRecord(id=doc_id, owner=owner, name=doc_id, created_at=at, updated_at=at)
    )


async def _walk(page: Page, size: int) -> list[list[str]]:
    """Every page's ids, each page starting after the last key of the one before."""
    pages: list[list[str]] = []
    after: DocumentKey | None = None
    while True:
        records = await page(after, size)
        assert len(records) <= size
        if not records:
            return pages
        pages.append([r.id for r in records])
        after = document_key(records[-1])


async def test_list_after_pages_in_key_order_with_ties(store: Store) -> None:
    # Ties in created_at are ordered by id; microsecond steps must not collapse.
    for i, doc_id in enumerate(["e", "c", "a", "d", "b", "f", "g"]):
        await _create(store, doc_id, BASE + (i // 2) * 1e-6)
    everything = [r.id for r in await store.list_documents()]
    assert everything == ["c", "e", "a", "d", "b", "f", "g"]

    async def page(after: DocumentKey | None, size: int) -> list[DocumentRecord]:
        return await store.list_documents_after(after, limit=size)

    assert await _walk(page, 3) == [["c", "e", "a"], ["d", "b", "f"], ["g"]]
    assert await _walk(page, 1) == [[i] for i in everything]
    last = (await store.list_documents())[-1]
    assert await store.list_documents_after(document_key(last)) == []
    assert await store.list_documents_after(None, limit=0) == []
    # Keys beyond any timestamp a store keeps: after everything, before everything.
    assert await store.list_documents_after((2.0**999, "a")) == []
    assert [r.id for r in await store.list_documents_after((-(2.0**999), "z"))] == everything
    with pytest.raises(ValueError, match="limit must be >= 0, got -1"):
        await store.list_documents_after(None, limit=-1)


async def test_list_after_is_stable_while_documents_are_created(store: Store) -> None:
    for i in range(10):
        await _create(store, f"old{i:02}", BASE + i)
    first = await store.list_documents_after(None, limit=4)
    # Created between pages: one sorts before the cursor, one after everything.
    await _create(store, "new-early", BASE + 0.5)
    await _create(store, "new-late", BASE + 100)
    pages = [[r.id for r in first]]
    after = document_key(first[-1])
    while records := await store.list_documents_after(after, limit=4):
        pages.append([r.id for r in records])
        after = document_key(records[-1])
    listed = [doc_id for p in pages for doc_id in p]
    assert len(listed) == len(set(listed))
    assert [d for d in listed if d.startswith("old")] == [f"old{i:02}" for i in range(10)]
    assert "new-early" not in listed and listed[-1] == "new-late"


async def test_visible_documents_are_owned_or_shared(store: Store, access: AccessStore) -> None:
    await _create(store, "mine", BASE, owner="ann")
    await _create(store, "theirs", BASE + 1, owner="bob")
    await _create(store, "shared-view", BASE + 2, owner="bob")
    await _create(store, "shared-edit", BASE + 3, owner="cat")
    await _create(store, "ownerless", BASE + 4)
    await _create(store, "ownerless-shared", BASE + 5)
    await access.set_role("shared-view", "ann", "viewer")
    await access.set_role("shared-edit", "ann", "editor")
    await access.set_role("ownerless-shared", "ann", "owner")
    await access.set_role("theirs", "dan", "editor")  # another user's membership
    visible = [r.id for r in await access.visible_documents("ann")]
    assert visible == ["mine", "shared-view", "shared-edit", "ownerless-shared"]
    assert await access.visible_documents("ann") == [
        await store.get_document(doc_id) for doc_id in visible
    ]
    assert [r.id for r in await access.visible_documents("dan")] == ["theirs"]
    assert await access.visible_documents("nobody") == []
    assert await access.remove_member("shared-view", "ann")
    assert [r.id for r in await access.visible_documents("ann")] == [
        "mine",
        "shared-edit",
        "ownerless-shared",
    ]


async def test_visible_documents_page_by_key_and_offset(store: Store, access: AccessStore) -> None:
    ann_sees: list[str] = []
    for i in range(30):
        doc_id = f"d{i:02}"
        # Pairs share a created_at (ties ordered by id); ann sees every third one.
        await _create(store, doc_id, BASE + (i // 2) * 1e-6, owner="ann" if i % 6 == 0 else "bob")
        if i % 3 == 0:
            ann_sees.append(doc_id)
            if i % 6:
                await access.set_role(doc_id, "ann", "viewer")

    async def page(after: DocumentKey | None, size: int) -> list[DocumentRecord]:
        return await access.visible_documents("ann", after=after, limit=size)

    assert await _walk(page, 4) == [ann_sees[0:4], ann_sees[4:8], ann_sees[8:10]]
    by_offset = [
        [r.id for r in await access.visible_documents("ann", limit=4, offset=start)]
        for start in (0, 4, 8, 12)
    ]
    assert by_offset == [ann_sees[0:4], ann_sees[4:8], ann_sees[8:10], []]
    second = await access.visible_documents("ann", limit=2, offset=1)
    after_first = await access.visible_documents("ann", after=document_key(second[0]), limit=1)
    assert after_first == second[1:]
    assert await access.visible_documents("ann", after=(2.0**999, "a")) == []
    far_before = await access.visible_documents("ann", after=(-(2.0**999), "z"))
    assert [r.id for r in far_before] == ann_sees
    with pytest.raises(ValueError, match="offset must be >= 0, got -2"):
        await access.visible_documents("ann", offset=-2)
    with pytest.raises(ValueError, match="limit must be >= 0, got -1"):
        await access.visible_documents("ann", limit=-1)
