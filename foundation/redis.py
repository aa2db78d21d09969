"""Where a Redis-backed component gets its client: a URL or a ready client.

Every Redis component (broker, lease, job queue) takes ``url`` (it creates its client on
start and closes it on stop) or ``conn`` (a configured ``redis.asyncio.Redis``, used as it is
and left open: whoever made it closes it). :class:`RedisSource` holds that choice once, so
the components only say how their own client is tuned. ``redis`` is imported when a client
is first made, so importing this module costs nothing where Redis is not configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from foundation.urls import redact_url

if TYPE_CHECKING:
    import redis.asyncio as aioredis


class RedisSource:
    """A Redis URL or a ready client, for the component named ``owner`` (in errors)."""

    def __init__(self, owner: str, url: str | None, conn: aioredis.Redis | None) -> None:
        if (url is None) == (conn is None):
            raise ValueError(f"{owner} needs exactly one of url or conn")
        self.url = url
        self.conn = conn

    def describe(self) -> str:
        """The URL without its password, for reprs and logs."""
        return redact_url(self.url) if self.url is not None else "<injected client>"

    def client(self, **options: Any) -> aioredis.Redis:
        """The injected client, or a new one from the URL with ``options`` (``from_url``'s
        keyword arguments: timeouts, retry, client name); pass it back to :meth:`close`."""
        if self.conn is not None:
            return self.conn
        import redis.asyncio as aioredis

        assert self.url is not None
        return aioredis.Redis.from_url(self.url, **options)

    async def close(self, client: aioredis.Redis | None) -> None:
        """Close ``client`` if :meth:`client` created it; an injected one stays open."""
        if client is not None and client is not self.conn:
            await client.aclose()
