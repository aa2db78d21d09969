"""Fan-out of document traffic between server instances: envelopes and the Broker interface.

Every ``serve`` process is one *instance*. A room publishes what its local clients sent
(updates, awareness) as :class:`Envelope` objects; the broker delivers them to the rooms of the
same document on every *other* instance. Delivery is at most once and may duplicate after a
reconnect; CRDT updates and awareness states are idempotent, and rooms heal gaps with
``SYNC_REQUEST``/``SYNC_REPLY`` when :meth:`Broker.on_reconnect` callbacks fire.

Exception tree::

    BrokerError            also raised by Envelope.decode for malformed bytes
     ├── BrokerUnavailable the backend cannot be reached (start() of a Redis broker)
     ├── AlreadyStarted
     └── NotStarted
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgpack  # type: ignore[import-untyped]

from foundation.lifecycle import Lifecycle

logger = logging.getLogger(__name__)

Handler = Callable[["Envelope"], None]
ReconnectCallback = Callable[[], Awaitable[None]] | Callable[[], None]

ENVELOPE_VERSION = 1
# Dropped envelopes are logged at most once per this many seconds (with a count).
DROP_LOG_INTERVAL = 10.0


class BrokerError(Exception):
    """Base class of every broker error; also raised for a malformed envelope."""


class BrokerUnavailable(BrokerError):
    """The broker's backend cannot be reached."""


class AlreadyStarted(BrokerError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is already started")


class NotStarted(BrokerError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not started; use 'async with' or await start() first")


class EnvelopeKind(StrEnum):
    UPDATE = "update"
    """payload: a CRDT update to apply."""
    AWARENESS = "awareness"
    """payload: an encoded awareness update."""
    SYNC_REQUEST = "sync_request"
    """payload: the sender's state vector ("send me what I lack")."""
    SYNC_REPLY = "sync_reply"
    """payload: an update answering a SYNC_REQUEST, usually with ``target_instance`` set."""
    ACCESS = "access"
    """payload: an access change (``collab.replication.access.AccessChange``): close the
    matching connections to the document."""


# Wire codes; never renumber (instances of different versions share a channel).
_KIND_TO_CODE = {
    EnvelopeKind.UPDATE: 1,
    EnvelopeKind.AWARENESS: 2,
    EnvelopeKind.SYNC_REQUEST: 3,
    EnvelopeKind.SYNC_REPLY: 4,
    EnvelopeKind.ACCESS: 5,
}
_CODE_TO_KIND = {code: kind for kind, code in _KIND_TO_CODE.items()}
# The kind code of a batch (Envelope.encode_batch): several envelopes in one message.
_BATCH_CODE = 6
_FIELDS = ("version", "kind", "doc_id", "origin_instance", "origin_user", "payload", "target")
# The bytes every encoded envelope starts with: a msgpack fixarray of the fields, the version.
# The kind code (one byte: a positive fixint) follows, then doc_id and origin_instance.
_HEAD = bytes([0x90 | len(_FIELDS), ENVELOPE_VERSION])


@dataclass(frozen=True, slots=True)
class Envelope:
    """One unit of broker traffic for one document.

    ``target_instance`` addresses a single instance (a ``SYNC_REPLY`` to the requester);
    ``None`` means every instance subscribed to the document.
    """

    doc_id: str
    origin_instance: str
    origin_user: str | None
    kind: EnvelopeKind
    payload: bytes
    target_instance: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EnvelopeKind):
            raise TypeError(f"kind must be an EnvelopeKind, got {self.kind!r}")
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, got {type(self.payload).__name__}")

    def encode(self) -> bytes:
        """msgpack array ``[version, kind code, doc_id, origin, user, payload, target]``."""
        data: bytes = msgpack.packb(
            [
                ENVELOPE_VERSION,
                _KIND_TO_CODE[self.kind],
                self.doc_id,
                self.origin_instance,
                self.origin_user,
                self.payload,
                self.target_instance,
            ],
            use_bin_type=True,
        )
        return data

    @staticmethod
    def origin_mark(doc_id: str, instance_id: str) -> bytes:
        """The bytes that follow the kind code in every envelope ``instance_id`` encodes for
        ``doc_id`` (msgpack packs a string the same way every time)."""
        mark: bytes = msgpack.packb(doc_id) + msgpack.packb(instance_id)
        return mark

    @staticmethod
    def has_origin_mark(data: bytes, mark: bytes) -> bool:
        """Whether ``data`` is an envelope carrying ``mark`` (see :meth:`origin_mark`), read
        from the raw bytes without decoding anything: an instance recognises its own
        envelopes coming back from Redis at the cost of a prefix comparison."""
        return data.startswith(_HEAD) and data.startswith(mark, len(_HEAD) + 1)

    @staticmethod
    def encode_batch(envelopes: Sequence[Envelope]) -> bytes:
        """Several envelopes of one document and one origin as one message, in order.

        A msgpack array like an envelope's, with the batch code for the kind, no user and no
        target, and for the payload an array of ``[kind code, user, payload, target]``: the
        document and origin sit where :meth:`has_origin_mark` looks for them, so a batch
        coming back to its publisher is skipped undecoded too. :meth:`decode_all` reads both.
        """
        if not envelopes:
            raise ValueError("a batch needs at least one envelope, got none")
        first = envelopes[0]
        for envelope in envelopes:
            if (envelope.doc_id, envelope.origin_instance) != (first.doc_id, first.origin_instance):
                raise ValueError(
                    f"a batch holds one document from one instance ({first.doc_id!r} from "
                    f"{first.origin_instance!r}), got {envelope.doc_id!r} from "
                    f"{envelope.origin_instance!r}"
                )
        data: bytes = msgpack.packb(
            [
                ENVELOPE_VERSION,
                _BATCH_CODE,
                first.doc_id,
                first.origin_instance,
                None,
                [
                    [_KIND_TO_CODE[e.kind], e.origin_user, e.payload, e.target_instance]
                    for e in envelopes
                ],
                None,
            ],
            use_bin_type=True,
        )
        return data

    @staticmethod
    def encode_message(envelopes: Sequence[Envelope]) -> bytes:
        """One message for ``envelopes``: the envelope itself when there is one
        (:meth:`encode`), else a batch (:meth:`encode_batch`)."""
        if len(envelopes) == 1:
            return envelopes[0].encode()
        return Envelope.encode_batch(envelopes)

    @staticmethod
    def count_marked(data: bytes, mark: bytes) -> int:
        """How many envelopes a message carrying ``mark`` (see :meth:`has_origin_mark`)
        holds, read from its raw bytes: 1, or a batch's length from its array header."""
        if data[len(_HEAD)] != _BATCH_CODE:
            return 1
        at = len(_HEAD) + 2 + len(mark)  # after the kind, the mark and the nil user
        header = data[at]
        if 0x90 <= header <= 0x9F:  # fixarray
            return header & 0x0F
        if header == 0xDC:  # array 16
            return int.from_bytes(data[at + 1 : at + 3], "big")
        if header == 0xDD:  # array 32
            return int.from_bytes(data[at + 1 : at + 5], "big")
        return 1  # not a batch this build wrote; counted as one

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        """Parse :meth:`encode` output; raises :class:`BrokerError` naming what is wrong."""
        raw = _unpack(data)
        if raw[1] == _BATCH_CODE:
            raise BrokerError("message is a batch of envelopes; read it with decode_all")
        return cls._from_fields(raw)

    @classmethod
    def decode_all(cls, data: bytes) -> list[Envelope]:
        """Parse one message: an envelope (:meth:`encode`) or a batch (:meth:`encode_batch`),
        into its envelopes in order; raises :class:`BrokerError` naming what is wrong."""
        raw = _unpack(data)
        if raw[1] != _BATCH_CODE:
            return [cls._from_fields(raw)]
        _, _, doc_id, origin, _, items, _ = raw
        if not isinstance(items, list) or not items:
            raise BrokerError(f"envelope batch must hold a non-empty array, got {items!r:.80}")
        out = []
        for item in items:
            if not isinstance(item, list) or len(item) != 4:
                raise BrokerError(
                    "envelope batch items must be arrays of [kind, user, payload, target], "
                    f"got {item!r:.80}"
                )
            code, user, payload, target = item
            out.append(
                cls._from_fields([ENVELOPE_VERSION, code, doc_id, origin, user, payload, target])
            )
        return out

    @classmethod
    def _from_fields(cls, raw: list[Any]) -> Envelope:
        _, code, doc_id, origin, user, payload, target = raw
        kind = _CODE_TO_KIND.get(code) if type(code) is int else None
        if kind is None:
            raise BrokerError(f"unknown envelope kind {code!r}; known: {sorted(_CODE_TO_KIND)}")
        _expect_str("doc_id", doc_id, optional=False)
        _expect_str("origin_instance", origin, optional=False)
        _expect_str("origin_user", user, optional=True)
        _expect_str("target_instance", target, optional=True)
        if not isinstance(payload, bytes):
            raise BrokerError(f"envelope payload must be binary, got {type(payload).__name__}")
        return cls(doc_id, origin, user, kind, payload, target)


def _unpack(data: bytes) -> list[Any]:
    """The fields of one message, its version and length checked."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BrokerError(f"envelope must be bytes, got {type(data).__name__}")
    try:
        raw = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise BrokerError(f"envelope is not valid msgpack ({type(exc).__name__}: {exc})") from None
    if not isinstance(raw, list):
        raise BrokerError(f"envelope must be a msgpack array, got {type(raw).__name__}")
    if not raw or raw[0] != ENVELOPE_VERSION:
        version = raw[0] if raw else None
        raise BrokerError(
            f"unsupported envelope version {version!r}; this build reads {ENVELOPE_VERSION}"
        )
    if len(raw) != len(_FIELDS):
        raise BrokerError(
            f"envelope v{ENVELOPE_VERSION} has {len(_FIELDS)} fields "
            f"({', '.join(_FIELDS)}), got {len(raw)}"
        )
    return raw


def _expect_str(name: str, value: Any, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        expected = "a non-empty string or nil" if optional else "a non-empty string"
        raise BrokerError(f"envelope {name} must be {expected}, got {value!r}")


def check_instance_id(instance_id: str | None) -> str:
    if instance_id is None:
        return uuid.uuid4().hex
    if not isinstance(instance_id, str) or not instance_id or instance_id.split() != [instance_id]:
        raise ValueError(
            f"instance_id must be a non-empty string without spaces, got {instance_id!r}"
        )
    return instance_id


class Broker(Lifecycle):
    """Delivers envelopes published on one instance to the other instances' handlers.

    Guarantees, for every implementation:

    - an envelope is never delivered back to the broker that published it, and one with a
      ``target_instance`` only to that instance;
    - envelopes from one publisher arrive in publish order (per document);
    - handlers run on the event loop, one at a time; an exception in a handler is logged and
      does not stop delivery;
    - :meth:`publish` does not wait for the network and never raises because the backend is
      down: the envelope is counted in :attr:`dropped` instead, and every loss of the
      connection (which may also lose incoming envelopes) is followed, once the connection
      is back and all subscriptions are re-established, by the :meth:`on_reconnect`
      callbacks: that is the moment for rooms to catch up with a ``SYNC_REQUEST``.
    """

    kind: str
    already_started = AlreadyStarted
    not_started = NotStarted

    def __init__(self, *, instance_id: str | None = None) -> None:
        super().__init__()
        self.instance_id = check_instance_id(instance_id)
        self.dropped = 0
        """Envelopes :meth:`publish` could not hand to the backend (disconnected, overflow)."""
        self.published = 0
        """Envelopes taken by :meth:`publish` or :meth:`offer` (dropped ones included)."""
        self.messages = 0
        """Messages (an envelope, or a batch of them) that reached this broker from the
        backend, its own echoes included."""
        self.received = 0
        """Envelopes that reached this broker from the backend, its own echoes included."""
        self.echoes = 0
        """This instance's own envelopes that came back from the backend, recognised on the
        raw bytes and skipped without decoding (Redis pub/sub sends them to every
        subscriber, the publisher's own connection included)."""
        self.decoded = 0
        """Messages decoded into envelopes (other instances' traffic)."""
        self.delivered = 0
        """Envelopes handed to a document's handler."""
        self._handlers: dict[str, Handler] = {}
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._callback_tasks: set[asyncio.Task[None]] = set()
        self._drops_unlogged = 0
        self._last_drop_log = -DROP_LOG_INTERVAL

    def __repr__(self) -> str:
        return f"{type(self).__name__}(instance_id={self.instance_id!r})"

    @property
    @abstractmethod
    def healthy(self) -> bool:
        """Started and connected: what is published now reaches the other instances."""

    @property
    def alone(self) -> bool:
        """No other instance has ever shared documents through this broker: every change of
        a document then went through this instance's room. False unless a backend knows."""
        return False

    # -- lifecycle ---------------------------------------------------------------------------

    async def _after_close(self) -> None:
        """Leave every document; cancel reconnect callbacks still running."""
        self._handlers.clear()
        tasks = list(self._callback_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- subscriptions -----------------------------------------------------------------------

    async def subscribe(self, doc_id: str, handler: Handler) -> None:
        """Deliver the document's envelopes from other instances to ``handler``.

        One handler per document: subscribing again replaces it. When this returns while the
        broker is healthy, the subscription is active; while it is disconnected, it becomes
        active on reconnect (followed by the on_reconnect callbacks).
        """
        self._check_started()
        if not isinstance(doc_id, str) or not doc_id:
            raise ValueError(f"doc_id must be a non-empty string, got {doc_id!r}")
        is_new = doc_id not in self._handlers
        self._handlers[doc_id] = handler
        await self._subscribe(doc_id, is_new)

    async def unsubscribe(self, doc_id: str) -> None:
        """Stop delivery for the document at once. A no-op if not subscribed or stopped."""
        if self._handlers.pop(doc_id, None) is not None and self._started:
            await self._unsubscribe(doc_id)

    @abstractmethod
    async def _subscribe(self, doc_id: str, is_new: bool) -> None: ...

    @abstractmethod
    async def _unsubscribe(self, doc_id: str) -> None: ...

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, envelope: Envelope) -> None:
        """Send ``envelope`` to the other instances subscribed to its document.

        Returns without waiting for the network (a backend may make the caller wait briefly
        when its send buffer is full: backpressure, not failure). Raises ValueError for an
        envelope that this instance did not originate (re-publishing received traffic would
        loop forever), NotStarted outside start()..stop(); never raises because the backend
        is down.
        """
        self._check_started()
        self._check_own(envelope)
        self.published += 1
        await self._publish(envelope)

    def offer(self, envelope: Envelope) -> bool:
        """Hand ``envelope`` over without waiting, for callers that cannot await (rooms).

        Goes into the same bounded send buffer as :meth:`publish`; returns False, taking
        nothing, when that buffer is full (then :meth:`drained` says when it has room again).
        Otherwise as :meth:`publish`: an envelope lost to a backend outage counts in
        :attr:`dropped` and True is returned.
        """
        self._check_started()
        self._check_own(envelope)
        taken = self._offer(envelope)
        if taken:
            self.published += 1
        return taken

    def offer_many(self, envelopes: Sequence[Envelope]) -> bool:
        """:meth:`offer` for several envelopes of one document, all taken or none, in order.

        They travel as one message (:meth:`Envelope.encode_batch`): one PUBLISH and one
        message to read on every subscribed instance instead of one per envelope. Raises
        ValueError when they are not all of one document (or not this instance's).
        """
        self._check_started()
        if not envelopes:
            return True
        doc_id = envelopes[0].doc_id
        for envelope in envelopes:
            self._check_own(envelope)
            if envelope.doc_id != doc_id:
                raise ValueError(
                    f"offer_many takes envelopes of one document ({doc_id!r}), "
                    f"got one of {envelope.doc_id!r}"
                )
        taken = self._offer_many(envelopes)
        if taken:
            self.published += len(envelopes)
        return taken

    async def drained(self) -> None:
        """Return once the send buffer is empty (at once for a backend without one)."""

    def _check_own(self, envelope: Envelope) -> None:
        if not isinstance(envelope, Envelope):
            raise TypeError(f"publish takes an Envelope, got {type(envelope).__name__}")
        if envelope.origin_instance != self.instance_id:
            raise ValueError(
                f"refusing to publish an envelope from instance {envelope.origin_instance!r} "
                f"on broker {self.instance_id!r}: brokers only publish their own traffic"
            )

    @abstractmethod
    async def _publish(self, envelope: Envelope) -> None:
        """Hand the envelope to the backend (or call ``_count_drop``); never raise for I/O."""

    def _offer(self, envelope: Envelope) -> bool:
        """``_publish`` without waiting: False when the send buffer is full."""
        return self._offer_many((envelope,))

    @abstractmethod
    def _offer_many(self, envelopes: Sequence[Envelope]) -> bool:
        """``_offer`` for one or more envelopes of one document, as one message
        (:meth:`Envelope.encode_message`), all taken or none."""

    def _count_drop(self, reason: str, count: int = 1) -> None:
        self.dropped += count
        self._drops_unlogged += count
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_INTERVAL:
            logger.warning(
                "%r dropped %d envelope(s) (%s; %d in total); peers catch up after reconnect",
                self,
                self._drops_unlogged,
                reason,
                self.dropped,
            )
            self._drops_unlogged = 0
            self._last_drop_log = now

    # -- delivery and reconnects ---------------------------------------------------------

    def _deliver(self, envelope: Envelope) -> None:
        """Run the handler for an envelope that arrived from the backend."""
        if envelope.origin_instance == self.instance_id:
            return
        if envelope.target_instance is not None and envelope.target_instance != self.instance_id:
            return
        handler = self._handlers.get(envelope.doc_id)
        if handler is None:
            return
        self.delivered += 1
        try:
            handler(envelope)
        except Exception:
            logger.exception(
                "%r: handler for document %r failed on a %s envelope",
                self,
                envelope.doc_id,
                envelope.kind.value,
            )

    def on_reconnect(self, callback: ReconnectCallback) -> Callable[[], None]:
        """Call ``callback`` each time the broker got its connection back after losing it.

        Envelopes may have been lost in both directions meanwhile; the callback runs after
        every subscription is re-established. Coroutine functions run as tasks (cancelled by
        stop()); exceptions are logged. Returns a function that removes the callback.
        """
        self._reconnect_callbacks.append(callback)

        def remove() -> None:
            if callback in self._reconnect_callbacks:
                self._reconnect_callbacks.remove(callback)

        return remove

    def _fire_reconnect(self) -> None:
        if not self._started:
            return
        for callback in list(self._reconnect_callbacks):
            try:
                result = callback()
            except Exception:
                logger.exception("%r: on_reconnect callback %r failed", self, callback)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(self._await_callback(callback, result))
                self._callback_tasks.add(task)
                task.add_done_callback(self._callback_tasks.discard)

    async def _await_callback(self, callback: ReconnectCallback, result: Awaitable[None]) -> None:
        try:
            await result
        except Exception:
            logger.exception("%r: on_reconnect callback %r failed", self, callback)
