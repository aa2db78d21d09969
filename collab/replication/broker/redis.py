"""Broker over Redis pub/sub: one channel per document, one subscriber connection per broker.

The subscriber connection is a raw redis-py ``Connection`` owned by a reader task, with
redis-py's own retries switched off: a reconnect that silently resubscribed would hide the
envelopes lost meanwhile, and rooms must hear about every gap (``on_reconnect``). The reader
detects loss by read errors and by a PING sent when the connection has been idle for
``ping_interval`` seconds, then reconnects with exponential backoff and jitter, resubscribes
every channel and only then reports healthy again and runs the on_reconnect callbacks.

Redis delivers a message to every subscriber, the publisher's own subscriber connection
included: each instance recognises its own envelopes on the raw bytes (the origin follows the
document id at a fixed place) and skips them before any decoding.

Publishing goes through the client's pool from a sender task fed by a bounded queue, so
``publish()`` never waits on the network and per-publisher order is kept (batches are
pipelined in order on one connection). A failed PUBLISH counts its envelopes as dropped and
forces a reconnect cycle, so that the callbacks fire for that loss too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from collab.replication.broker.base import Broker, BrokerError, BrokerUnavailable, Envelope
from collab.replication.redis_keys import DEFAULT_NAMESPACE, RedisKeys
from foundation.redis import RedisSource

logger = logging.getLogger(__name__)

_SUBSCRIBE_CHUNK = 500  # channels per SUBSCRIBE command when resubscribing
_MAX_BATCH = 256  # envelopes per pipelined PUBLISH round trip
_LOG_INTERVAL = 10.0  # seconds between repeated warnings of one sort


class _ConnectionLost(Exception):
    pass


class RedisBroker(Broker):
    """:class:`Broker` over Redis pub/sub.

    Pass ``url`` (the broker creates, and closes on stop, its own client) or ``conn`` (a
    configured ``redis.asyncio.Redis``, left open on stop; the subscriber connection is made
    with its pool's connection settings). ``namespace`` prefixes every channel name.

    Tuning (seconds): the subscriber connection is PINGed after ``ping_interval`` without
    traffic and declared lost without a reply within ``ping_timeout``; ``connect_timeout``
    bounds each connection attempt, and reconnects back off from ``reconnect_min`` to
    ``reconnect_max`` (with jitter). ``queue_size`` envelopes wait for the sender task;
    when it is full, ``publish()`` waits up to ``send_timeout`` before dropping, and
    ``stop()`` waits as long for the queue to drain.
    """

    kind = "redis"

    def __init__(
        self,
        url: str | None = None,
        *,
        conn: aioredis.Redis | None = None,
        instance_id: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        ping_interval: float = 1.0,
        ping_timeout: float = 2.0,
        connect_timeout: float = 5.0,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
        queue_size: int = 10_000,
        send_timeout: float = 2.0,
    ) -> None:
        super().__init__(instance_id=instance_id)
        self._source = RedisSource("RedisBroker", url, conn)
        for name, value in (
            ("ping_interval", ping_interval),
            ("ping_timeout", ping_timeout),
            ("connect_timeout", connect_timeout),
            ("reconnect_min", reconnect_min),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value}")
        if reconnect_max < reconnect_min:
            raise ValueError(
                f"reconnect_max must be >= reconnect_min ({reconnect_min}), got {reconnect_max}"
            )
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.url = url
        self.keys = RedisKeys(namespace)
        self.malformed = 0
        """Messages on a document channel that were not valid envelopes (skipped)."""
        self._client: aioredis.Redis | None = None
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._queue_size = queue_size
        self._send_timeout = send_timeout
        self._healthy = False
        self._sub: AbstractConnection | None = None  # set once fully subscribed
        self._channels: dict[bytes, str] = {}  # wanted channel -> doc_id
        # wanted channel -> Envelope.origin_mark of this instance's envelopes on it
        self._own_marks: dict[bytes, bytes] = {}
        # Futures of SUBSCRIBE commands in flight, per channel in send order: Redis answers
        # the commands of one connection in order, so each reply resolves the oldest.
        self._acks: dict[bytes, deque[asyncio.Future[None]]] = {}
        self._initial: set[bytes] = set()  # acks still missing while (re)connecting
        self._pong_deadline: float | None = None
        self._recycle_reason: str | None = None
        self._queue: asyncio.Queue[tuple[bytes, bytes]] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._last_log: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"RedisBroker({self._source.describe()}, instance_id={self.instance_id!r})"

    @property
    def healthy(self) -> bool:
        return self._started and self._healthy

    @property
    def subscriber_name(self) -> str:
        """CLIENT SETNAME of the subscriber connection (to find it in CLIENT LIST)."""
        return self.keys.client_name("sub", self.instance_id)

    # -- lifecycle ---------------------------------------------------------------------------

    async def _open(self) -> None:
        self._client = self._source.client(
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
            # One immediate retry replaces a pooled connection the server closed.
            retry=Retry(NoBackoff(), 1),
            client_name=self.keys.client_name("pub", self.instance_id),
        )
        self._queue = asyncio.Queue(self._queue_size)
        try:
            sub = await self._establish()
        except (RedisError, OSError, TimeoutError, _ConnectionLost) as exc:
            raise BrokerUnavailable(f"{self!r} cannot reach Redis: {_describe(exc)}") from exc
        self._healthy = True
        self._reader = asyncio.create_task(self._run(sub), name=f"{self!r} reader")
        self._sender = asyncio.create_task(self._send_loop(), name=f"{self!r} sender")

    async def _close(self) -> None:
        if self._sender is not None and self._queue is not None and self._healthy:
            try:
                async with asyncio.timeout(self._send_timeout):
                    await self._queue.join()
            except TimeoutError:
                logger.warning("%r: stopped before its last envelopes were published", self)
        self._healthy = False
        tasks = [t for t in (self._reader, self._sender) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._reader = self._sender = None
        sub = self._sub
        self._forget_connection()
        if sub is not None:
            await _disconnect(sub, wait=True)
        self._channels.clear()
        self._own_marks.clear()
        self._queue = None
        client, self._client = self._client, None
        await self._source.close(client)

    # -- subscriptions -----------------------------------------------------------------------

    async def _subscribe(self, doc_id: str, is_new: bool) -> None:
        channel = self.keys.doc_channel(doc_id).encode()
        self._channels[channel] = doc_id
        self._own_marks[channel] = Envelope.origin_mark(doc_id, self.instance_id)
        pending = self._acks.get(channel)
        ack = pending[-1] if pending else None
        if is_new and self._healthy and self._sub is not None:
            ack = asyncio.get_running_loop().create_future()
            self._acks.setdefault(channel, deque()).append(ack)
            try:
                await _send(self._sub, "SUBSCRIBE", channel)
            except (RedisError, OSError, _ConnectionLost) as exc:
                self._request_recycle(f"SUBSCRIBE failed: {_describe(exc)}")
                return
        if ack is not None:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await asyncio.shield(ack)
            except TimeoutError:
                # The reader's PING notices a dead connection; resubscribing follows.
                logger.warning("%r: no SUBSCRIBE confirmation for %r yet", self, doc_id)

    async def _unsubscribe(self, doc_id: str) -> None:
        channel = self.keys.doc_channel(doc_id).encode()
        self._channels.pop(channel, None)
        self._own_marks.pop(channel, None)
        if self._sub is not None:
            try:
                await _send(self._sub, "UNSUBSCRIBE", channel)
            except (RedisError, OSError, _ConnectionLost) as exc:
                self._request_recycle(f"UNSUBSCRIBE failed: {_describe(exc)}")

    # -- the subscriber connection -----------------------------------------------------------

    def _make_subscriber(self) -> AbstractConnection:
        assert self._client is not None
        pool = self._client.connection_pool
        kwargs: dict[str, Any] = dict(pool.connection_kwargs)
        kwargs.update(
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
            protocol=2,
            decode_responses=False,
            client_name=self.subscriber_name,
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
        )
        return pool.connection_class(**kwargs)

    async def _establish(self) -> AbstractConnection:
        """Connect, subscribe every wanted channel, wait for the confirmations."""
        assert self._client is not None
        conn = self._make_subscriber()
        channels = list(self._channels)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await conn.connect()  # type: ignore[no-untyped-call]
                self._initial = set(channels)
                for i in range(0, len(channels), _SUBSCRIBE_CHUNK):
                    await _send(conn, "SUBSCRIBE", *channels[i : i + _SUBSCRIBE_CHUNK])
                while self._initial:
                    response = await conn.read_response(timeout=self._connect_timeout)
                    if response is not None:
                        self._handle(response)
                await cast(Awaitable[bool], self._client.ping())  # the publishing side works too
        except BaseException:
            self._initial.clear()
            await _disconnect(conn, wait=False)
            raise
        self._sub = conn
        self._pong_deadline = None
        self._recycle_reason = None
        # Subscriptions changed while connecting were not sent; later ones send themselves.
        wanted = set(self._channels)
        missing = wanted.difference(channels)
        extra = set(channels).difference(wanted)
        try:
            if missing:
                loop = asyncio.get_running_loop()
                for channel in missing:  # nobody waits, but replies must match in order
                    self._acks.setdefault(channel, deque()).append(loop.create_future())
                await _send(conn, "SUBSCRIBE", *missing)
            if extra:
                await _send(conn, "UNSUBSCRIBE", *extra)
        except BaseException:
            self._forget_connection()
            await _disconnect(conn, wait=False)
            raise
        return conn

    async def _run(self, conn: AbstractConnection) -> None:
        while True:
            try:
                await self._read(conn)
                reason = "reader stopped"
            except Exception as exc:  # every way of losing the connection ends up here
                reason = _describe(exc)
            self._forget_connection()
            await _disconnect(conn, wait=False)
            logger.warning("%r lost its Redis connection (%s); reconnecting", self, reason)
            conn = await self._reconnect()
            self._healthy = True
            logger.warning("%r reconnected to Redis; %d channel(s)", self, len(self._channels))
            self._fire_reconnect()

    async def _reconnect(self) -> AbstractConnection:
        attempt = 0
        while True:
            delay = min(self._reconnect_max, self._reconnect_min * 2 ** min(attempt, 30))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1
            try:
                return await self._establish()
            except Exception as exc:
                self._log_limited(
                    "reconnect",
                    "%r: reconnect attempt %d failed: %s",
                    self,
                    attempt,
                    _describe(exc),
                )

    async def _read(self, conn: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        last_rx = loop.time()
        while True:
            if self._recycle_reason is not None:
                raise _ConnectionLost(self._recycle_reason)
            now = loop.time()
            if self._pong_deadline is not None:
                wait = self._pong_deadline - now
                if wait <= 0:
                    raise _ConnectionLost(f"no reply to PING within {self._ping_timeout}s")
            else:
                wait = last_rx + self._ping_interval - now
                if wait <= 0:
                    await _send(conn, "PING")
                    self._pong_deadline = now + self._ping_timeout
                    continue
            if not conn.is_connected:
                raise _ConnectionLost("connection closed")
            response = await conn.read_response(timeout=min(wait, self._ping_interval))
            if response is not None:
                last_rx = loop.time()
                self._handle(response)

    def _handle(self, response: Any) -> None:
        if response == b"PONG":  # PING on a connection without subscriptions
            self._pong_deadline = None
            return
        if not isinstance(response, list) or len(response) < 2:
            logger.debug("%r: unexpected pub/sub reply %r", self, response)
            return
        kind, channel = response[0], response[1]
        if kind == b"message" and len(response) == 3:
            self._dispatch(channel, response[2])
        elif kind == b"subscribe":
            if channel in self._initial:
                self._initial.discard(channel)
                return
            pending = self._acks.get(channel)
            if pending:
                ack = pending.popleft()
                if not pending:
                    del self._acks[channel]
                if not ack.done():
                    ack.set_result(None)
        elif kind == b"pong":
            self._pong_deadline = None

    def _dispatch(self, channel: bytes, data: Any) -> None:
        self.messages += 1
        doc_id = self._channels.get(channel)
        if doc_id is None:
            self.received += 1
            return  # unsubscribed meanwhile
        mark = self._own_marks[channel]
        if isinstance(data, bytes) and Envelope.has_origin_mark(data, mark):
            # Redis sends every publisher its own messages back: skip them before decoding.
            count = Envelope.count_marked(data, mark)
            self.received += count
            self.echoes += count
            return
        try:
            envelopes = Envelope.decode_all(data)
            if envelopes[0].doc_id != doc_id:
                raise BrokerError(
                    f"envelope for document {envelopes[0].doc_id!r} arrived on the channel of "
                    f"{doc_id!r}"
                )
        except BrokerError as exc:
            self.received += 1
            self.malformed += 1
            self._log_limited(
                "malformed", "%r: skipped a bad message on %r: %s", self, channel, exc
            )
            return
        self.received += len(envelopes)
        self.decoded += len(envelopes)
        for envelope in envelopes:
            self._deliver(envelope)

    def _forget_connection(self) -> None:
        self._healthy = False
        self._sub = None
        self._pong_deadline = None
        self._recycle_reason = None
        self._initial.clear()
        for pending in self._acks.values():
            for ack in pending:
                if not ack.done():
                    ack.set_result(None)  # subscribe() returns; reconnect resubscribes
        self._acks.clear()

    def _request_recycle(self, reason: str) -> None:
        """Treat a failure outside the reader as a connection loss (so callbacks fire)."""
        if self._sub is not None and self._recycle_reason is None:
            self._healthy = False
            self._recycle_reason = reason

    # -- publishing --------------------------------------------------------------------------

    async def _publish(self, envelope: Envelope) -> None:
        queue = self._queue
        if not self._healthy or queue is None:
            self._count_drop("Redis connection lost")
            return
        item = (self.keys.doc_channel(envelope.doc_id).encode(), envelope.encode())
        try:
            queue.put_nowait(item)
            return
        except asyncio.QueueFull:
            pass
        try:  # backpressure: Redis is slower than the publishers right now
            async with asyncio.timeout(self._send_timeout):
                await queue.put(item)
        except TimeoutError:
            self._count_drop(f"publish queue full ({self._queue_size} envelopes)")
            self._request_recycle("publish queue stayed full")

    def _offer_many(self, envelopes: Sequence[Envelope]) -> bool:
        queue = self._queue
        if not self._healthy or queue is None:
            self._count_drop("Redis connection lost", len(envelopes))
            return True
        channel = self.keys.doc_channel(envelopes[0].doc_id).encode()
        try:
            queue.put_nowait((channel, Envelope.encode_message(envelopes)))
        except asyncio.QueueFull:
            return False
        return True

    async def drained(self) -> None:
        queue = self._queue
        if queue is not None and self._healthy:
            await queue.join()

    async def _send_loop(self) -> None:
        assert self._queue is not None and self._client is not None
        queue, client = self._queue, self._client
        while True:
            batch = [await queue.get()]
            while len(batch) < _MAX_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                if len(batch) == 1:
                    await client.publish(*batch[0])
                else:
                    async with client.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
            except Exception as exc:
                self._count_drop(f"PUBLISH failed: {_describe(exc)}", len(batch))
                self._request_recycle(f"PUBLISH failed: {_describe(exc)}")
            finally:
                for _ in batch:
                    queue.task_done()

    def _log_limited(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last_log.get(key, -_LOG_INTERVAL) >= _LOG_INTERVAL:
            self._last_log[key] = now
            logger.warning(message, *args)
        else:
            logger.debug(message, *args)


async def _send(conn: AbstractConnection, *args: Any) -> None:
    # send_command would silently reconnect a closed connection, without subscriptions.
    if not conn.is_connected:
        raise _ConnectionLost("connection closed")
    await conn.send_command(*args, check_health=False)


async def _disconnect(conn: AbstractConnection, *, wait: bool) -> None:
    try:
        await conn.disconnect(nowait=not wait)
    except Exception:
        logger.debug("closing a Redis connection failed", exc_info=True)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
