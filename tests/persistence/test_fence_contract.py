"""Fenced snapshot writes, on every Store implementation (see conftest.KINDS): a write whose
lease fencing token is older than the newest one seen for the document is refused."""

from __future__ import annotations

import asyncio

import pytest

from persistence import Store
from persistence.errors import StaleFence


async def test_an_older_token_is_refused_and_changes_nothing(store: Store) -> None:
    await store.append_updates([("a", b"%d" % i) for i in range(1, 5)])
    await store.write_snapshot("a", b"s1", up_to_seq=1, fence=1)
    await store.write_snapshot("a", b"s2", up_to_seq=2, fence=2)
    before = (await store.load("a"), await store.list_snapshots("a"))
    with pytest.raises(StaleFence, match="'a' refused: fencing token 1 older than 2") as info:
        await store.write_snapshot("a", b"late", up_to_seq=4, fence=1)
    assert (info.value.doc_id, info.value.fence, info.value.newest) == ("a", 1, 2)
    # Neither the snapshot nor the compaction happened: the log still has rows 3 and 4.
    assert (await store.load("a"), await store.list_snapshots("a")) == before
    assert (await store.load("a")).updates == [b"3", b"4"]


async def test_the_same_token_may_write_again_and_a_newer_one_takes_over(store: Store) -> None:
    await store.append_updates([("a", b"1"), ("a", b"2"), ("a", b"3")])
    await store.write_snapshot("a", b"s1", up_to_seq=1, fence=5)
    await store.write_snapshot("a", b"s2", up_to_seq=2, fence=5)
    await store.write_snapshot("a", b"s3", up_to_seq=3, fence=9, label="v")
    with pytest.raises(StaleFence, match="token 5 older than 9"):
        await store.write_snapshot("a", b"late", up_to_seq=3, fence=5)
    assert (await store.load("a")).snapshot == b"s3"


async def test_unfenced_writes_are_never_refused_and_keep_the_newest(store: Store) -> None:
    await store.append_updates([("a", b"1"), ("a", b"2")])
    await store.write_snapshot("a", b"plain", up_to_seq=1)  # no lease: one instance
    await store.write_snapshot("a", b"fenced", up_to_seq=1, fence=3)
    await store.write_snapshot("a", b"plain again", up_to_seq=2)
    assert (await store.load("a")).snapshot == b"plain again"
    with pytest.raises(StaleFence, match="token 2 older than 3"):
        await store.write_snapshot("a", b"late", up_to_seq=2, fence=2)
    await store.write_snapshot("a", b"same", up_to_seq=2, fence=3)


async def test_tokens_are_per_document(store: Store) -> None:
    await store.append_updates([("a", b"1"), ("b", b"1")])
    await store.write_snapshot("a", b"a", up_to_seq=1, fence=100)
    await store.write_snapshot("b", b"b", up_to_seq=1, fence=1)
    assert (await store.load("b")).snapshot == b"b"


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"])
async def test_bad_tokens_are_rejected_by_value(store: Store, bad: object) -> None:
    await store.append_updates([("a", b"1")])
    with pytest.raises(ValueError, match=f"fence must be an int >= 0 or None, got {bad!r}"):
        await store.write_snapshot("a", b"s", up_to_seq=1, fence=bad)  # type: ignore[arg-type]
    assert await store.list_snapshots("a") == []


async def test_a_deleted_document_forgets_its_token(store: Store) -> None:
    await store.append_updates([("a", b"1")])
    await store.write_snapshot("a", b"s", up_to_seq=1, fence=7)
    await store.delete_document("a")
    await store.append_updates([("a", b"1")])
    await store.write_snapshot("a", b"fresh", up_to_seq=1, fence=1)
    assert (await store.load("a")).snapshot == b"fresh"


async def test_racing_writers_end_with_the_newest_token_last(store: Store) -> None:
    # Concurrent writes (several pool connections on Postgres): whatever the interleaving,
    # no write with an older token lands after a newer one, so the newest snapshot is the one
    # carrying the greatest token and every refusal names an older token.
    await store.append_updates([("a", b"1")])
    fences = [3, 8, 1, 6, 2, 7, 5, 4]
    results = await asyncio.gather(
        *(store.write_snapshot("a", b"f%d" % f, up_to_seq=1, fence=f) for f in fences),
        return_exceptions=True,
    )
    for fence, result in zip(fences, results, strict=True):
        if isinstance(result, BaseException):
            assert isinstance(result, StaleFence), result
            assert result.fence == fence < result.newest
    assert not isinstance(results[fences.index(8)], BaseException)
    newest = (await store.list_snapshots("a"))[0]
    assert await store.read_snapshot("a", newest.id) == b"f8"
