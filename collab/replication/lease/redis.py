"""Leases in Redis: ``SET key owner NX PX ttl``, with owner-checked renew/release scripts.

The scripts compare the stored owner before touching the key, so a holder whose lease expired
and was taken by another owner can neither extend nor delete the new holder's lease.

The fencing token of a lease is a counter in a second key (the lease key of ``fence:<name>``,
without expiry), advanced by the acquire script whenever the lease is newly taken: in the
same script, so two owners can never get the same token.
"""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from collab.replication.lease.base import Lease, LeaseUnavailable
from collab.replication.redis_keys import DEFAULT_NAMESPACE, RedisKeys
from foundation.redis import RedisSource

# KEYS[1] = lease key, KEYS[2] = fence counter key, ARGV[1] = owner, ARGV[2] = ttl in ms.
# Returns the fencing token, or 0 when another owner holds the lease. A new token is the
# counter plus one, but never below Redis's clock in milliseconds (``first_token``): a lost
# counter (Redis restarted without persistence) does not restart from 1 below the tokens the
# store has already seen.
_ACQUIRE = """
local function new_token()
  local now = redis.call('TIME')
  local floor = now[1] * 1000 + math.floor(now[2] / 1000)
  local token = redis.call('INCR', KEYS[2])
  if token < floor then
    redis.call('SET', KEYS[2], string.format('%d', floor))
    token = floor
  end
  return token
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return new_token()
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local token = redis.call('GET', KEYS[2])
  if token then
    return tonumber(token)
  end
  return new_token()
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLease(Lease):
    """:class:`Lease` in Redis keys named by :class:`~collab.replication.redis_keys.RedisKeys`.

    Pass ``url`` (a client is created, and closed on stop) or ``conn`` (left open).
    """

    kind = "redis"

    def __init__(
        self,
        url: str | None = None,
        *,
        conn: aioredis.Redis | None = None,
        owner: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__(owner=owner)
        self._source = RedisSource("RedisLease", url, conn)
        self.url = url
        self.keys = RedisKeys(namespace)
        self._connect_timeout = connect_timeout
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"RedisLease({self._source.describe()}, owner={self.owner!r})"

    async def _open(self) -> None:
        self._client = self._source.client(
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
        )
        self._scripts = {
            "acquire": self._client.register_script(_ACQUIRE),
            "renew": self._client.register_script(_RENEW),
            "release": self._client.register_script(_RELEASE),
        }
        try:
            await self._client.ping()  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            raise LeaseUnavailable(f"{self!r} cannot reach Redis: {exc}") from exc

    async def _close(self) -> None:
        client, self._client = self._client, None
        self._scripts = {}
        await self._source.close(client)

    async def _run(self, script: str, name: str, ttl: float | None = None) -> int:
        args: list[str | int] = [self.owner]
        if ttl is not None:
            args.append(max(1, math.ceil(ttl * 1000)))
        keys = [self.keys.lease(name)]
        if script == "acquire":
            keys.append(self.keys.lease(f"fence:{name}"))
        try:
            result = await self._scripts[script](keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise LeaseUnavailable(f"{self!r}: {script} of lease {name!r} failed: {exc}") from exc
        return int(result)

    async def _acquire(self, name: str, ttl: float) -> int | None:
        token = await self._run("acquire", name, ttl)
        return token if token > 0 else None

    async def _renew(self, name: str, ttl: float) -> bool:
        return await self._run("renew", name, ttl) == 1

    async def _release(self, name: str) -> None:
        await self._run("release", name)

    async def _holder(self, name: str) -> str | None:
        assert self._client is not None
        try:
            value = await self._client.get(self.keys.lease(name))
        except (RedisError, OSError) as exc:
            raise LeaseUnavailable(f"{self!r}: reading lease {name!r} failed: {exc}") from exc
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)
