"""The access-store contract, on memory, SQLite and Postgres."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from persistence import Store
from persistence.access import (
    AccessStore,
    DuplicateUser,
    LinkNotFound,
    ShareLink,
    UserNotFound,
    UserRecord,
    access_for,
)


@pytest.fixture
async def access(store: Store) -> AsyncIterator[AccessStore]:
    a = access_for(store)
    await a.prepare()
    await a.prepare()  # idempotent
    yield a


def _user(name: str) -> UserRecord:
    return UserRecord(uuid.uuid4().hex, name, "$argon2id$fake", time.time())


async def test_users(access: AccessStore) -> None:
    alice = _user("alice")
    await access.create_user(alice)
    assert await access.user_by_name("alice") == alice
    assert await access.user_by_id(alice.id) == alice
    with pytest.raises(DuplicateUser, match="'alice' is taken"):
        await access.create_user(_user("alice"))
    with pytest.raises(UserNotFound, match="'bob'"):
        await access.user_by_name("bob")


async def test_members_and_roles(access: AccessStore) -> None:
    assert await access.role_of("d1", "u1") is None
    await access.set_role("d1", "u1", "viewer")
    await access.set_role("d1", "u1", "editor")  # upsert
    await access.set_role("d1", "u2", "viewer")
    await access.set_role("d2", "u1", "owner")
    assert await access.role_of("d1", "u1") == "editor"
    assert await access.members("d1") == {"u1": "editor", "u2": "viewer"}
    assert await access.remove_member("d1", "u2") is True
    assert await access.remove_member("d1", "u2") is False
    assert await access.members("d1") == {"u1": "editor"}
    with pytest.raises(ValueError, match="got 'admin'"):
        await access.set_role("d1", "u1", "admin")


async def test_share_links(access: AccessStore) -> None:
    now = time.time()
    link = ShareLink("l1", "d1", "viewer", "u1", now, now + 60, None)
    await access.create_link(link)
    await access.create_link(ShareLink("l2", "d1", "editor", "u1", now + 1, None, None))
    assert await access.get_link("l1") == link
    assert link.active(now)
    assert [x.id for x in await access.links("d1")] == ["l1", "l2"]
    revoked = await access.revoke_link("l1", now + 5)
    assert revoked.revoked_at == now + 5 and not revoked.active(now + 6)
    again = await access.revoke_link("l1", now + 9)  # keeps the first revocation time
    assert again.revoked_at == now + 5
    with pytest.raises(LinkNotFound, match="'nope'"):
        await access.get_link("nope")
    assert not ShareLink("x", "d", "viewer", "u", now, now - 1, None).active(now)
