"""A minimal y-websocket client on a raw ``asyncio.Protocol``, built to cost the generator little.

Why not the ``websockets`` or ``aiohttp`` client: those wake a coroutine and allocate futures
for every received message; at tens of thousands of frames per second that is the load
generator's whole core. Here the receive path is one ``data_received`` call per TCP read that
parses every frame in it, timestamps them once and hands update frames to the ``Recorder``.
Outgoing load frames are built (masked and, when negotiated, deflated) before the measured
window, so sending is one ``transport.write``.

It speaks RFC 6455 as a browser does: the handshake offers ``permessage-deflate;
client_max_window_bits`` (browsers always do; pass ``deflate=False`` to not offer it), answers
pings, answers a close. Server frames are never masked; fragmented messages are reassembled.

The y-websocket side: on open the client sends sync step 1 with ``state_vector`` (its replica's
state: the seed document) and answers the server's step 1 with an empty step 2 (it has nothing
the server lacks). ``synced`` resolves when the server's step 2 arrives.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import os
import time
import zlib
from collections.abc import Callable
from typing import Any

_apply_mask_c: Callable[[bytes, bytes], bytes] | None
try:
    from websockets.speedups import apply_mask as _apply_mask_c
except ImportError:  # pragma: no cover - websockets always ships its C speedups on CPython
    _apply_mask_c = None

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TAIL = b"\x00\x00\xff\xff"
OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

perf_counter = time.perf_counter


def var_uint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def sync_message(kind: int, payload: bytes) -> bytes:
    """A y-websocket sync frame: ``[0][kind][varUint8Array payload]`` (0 step 1, 1 step 2,
    2 update)."""
    return bytes((0, kind)) + var_uint(len(payload)) + payload


EMPTY_STEP2 = sync_message(1, b"\x00\x00")


def _mask(payload: bytes, key: bytes) -> bytes:
    if _apply_mask_c is not None:
        return _apply_mask_c(payload, key)
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def client_frame(payload: bytes, opcode: int = OP_BIN, rsv1: bool = False) -> bytes:
    """One masked client-to-server frame (FIN set)."""
    b0 = 0x80 | opcode | (0x40 if rsv1 else 0)
    n = len(payload)
    if n < 126:
        header = bytes((b0, 0x80 | n))
    elif n < 65536:
        header = bytes((b0, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((b0, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return header + key + _mask(payload, key)


def update_key(update: bytes, pos: int = 0) -> int:
    """Identify a Yjs v1 update by its first struct group: ``client << 32 | clock``.

    Both servers re-encode what they broadcast (from the transaction), so the bytes may differ
    from what was sent, but the first group's client and start clock are the sender's: unique
    per update. Layout: varUint groups, varUint structs, varUint client, varUint clock.
    """
    values = []
    for _ in range(4):
        value = shift = 0
        while True:
            byte = update[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        values.append(value)
    return (values[2] << 32) | values[3]


class Deflate:
    """permessage-deflate parameters the server accepted (RFC 7692)."""

    def __init__(self, header: str) -> None:
        self.client_bits = 15
        self.client_no_takeover = False
        self.server_no_takeover = False
        for part in header.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name == "client_max_window_bits" and value:
                self.client_bits = int(value.strip('"'))
            elif name == "client_no_context_takeover":
                self.client_no_takeover = True
            elif name == "server_no_context_takeover":
                self.server_no_takeover = True

    def compressor(self) -> Any:
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.client_bits)


class FrameEncoder:
    """Builds one connection's outgoing binary frames in send order (deflate context kept)."""

    def __init__(self, deflate: Deflate | None) -> None:
        self._deflate = deflate
        self._compressor: Any = deflate.compressor() if deflate is not None else None

    def encode(self, message: bytes) -> bytes:
        if self._deflate is None:
            return client_frame(message)
        if self._deflate.client_no_takeover:
            self._compressor = self._deflate.compressor()
        data = self._compressor.compress(message) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if data.endswith(_TAIL):
            data = data[:-4]
        return client_frame(data, rsv1=True)


class Recorder:
    """What every client reports its update receipts to. One per measured phase."""

    def on_update(self, client: YClient, update: bytes, pos: int, now: float) -> None:
        raise NotImplementedError


class YClient(asyncio.Protocol):
    """One y-websocket connection. Create with ``loop.create_connection``."""

    def __init__(
        self,
        index: int,
        host: str,
        port: int,
        path: str,
        state_vector: bytes,
        recorder: Recorder | None,
        *,
        deflate: bool = True,
        hello: bytes = b"",
        tag: int = 0,
    ) -> None:
        self.index = index
        self.tag = tag  # e.g. which instance it is connected to (S5)
        self._host = host
        self._port = port
        self._path = path
        self._sv = state_vector
        self._hello = hello  # extra messages sent before step 1 (a room's seed update)
        self.recorder = recorder
        self._offer = deflate
        self.deflate: Deflate | None = None
        self._inflater: Any = None
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.synced: asyncio.Future[float] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.close_code: int | None = None
        self.closed_at: float | None = None  # perf_counter when the server's close frame came
        self.step2_bytes = 0
        self._key = base64.b64encode(os.urandom(16))
        self._handshake = bytearray()
        self._open = False
        self._buf = b""
        self._frag: list[bytes] | None = None
        self._frag_rsv1 = False
        self.frames_in = 0
        self.bytes_in = 0
        self.other_updates = 0  # update frames the recorder did not know (e.g. server history)
        self.step2_payload = b""  # kept only when ``keep_step2`` (to check a sync's content)
        self.keep_step2 = False
        self._step2_waiters: collections.deque[asyncio.Future[float]] = collections.deque()

    # -- connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport = transport  # type: ignore[assignment]
        lines = [
            f"GET {self._path} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if self._offer:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        _fail(self.opened, f"closed during handshake: {exc}")
        _fail(self.synced, f"closed before sync (close code {self.close_code}): {exc}")
        while self._step2_waiters:
            _fail(self._step2_waiters.popleft(), f"closed before step 2: {exc}")
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    @property
    def is_open(self) -> bool:
        return self._open

    def send_raw(self, frame: bytes) -> None:
        """Write an already built frame (see ``FrameEncoder``)."""
        if self._open and self.transport is not None:
            self.transport.write(frame)

    def send_message(self, message: bytes) -> None:
        """Send one y-websocket message uncompressed (handshake traffic, not the load)."""
        if self._open and self.transport is not None:
            self.transport.write(client_frame(message))

    def roundtrip(self, state_vector: bytes) -> asyncio.Future[float]:
        """Send sync step 1; the future resolves when its step 2 arrives. The server handles
        a connection's frames in order, so everything sent before has then been applied."""
        future = asyncio.get_running_loop().create_future()
        self._step2_waiters.append(future)
        self.send_message(sync_message(0, state_vector))
        return future

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self._open:
            self.transport.write(client_frame((1000).to_bytes(2, "big"), OP_CLOSE))
            self._open = False
        self.transport.close()

    # -- receiving -----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        now = perf_counter()
        if not self._open:
            self._handshake += data
            end = self._handshake.find(b"\r\n\r\n")
            if end < 0:
                if len(self._handshake) > 65536:
                    self._fail("handshake response too long")
                return
            head = bytes(self._handshake[:end]).decode("latin-1")
            data = bytes(self._handshake[end + 4 :])
            self._handshake = bytearray()
            if not self._accept(head):
                return
            if not data:
                return
        self.bytes_in += len(data)
        if self._buf:
            data = self._buf + data
            self._buf = b""
        pos = 0
        n = len(data)
        while n - pos >= 2:
            b0 = data[pos]
            length = data[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if n - start < 2:
                    break
                length = int.from_bytes(data[start : start + 2], "big")
                start += 2
            elif length == 127:
                if n - start < 8:
                    break
                length = int.from_bytes(data[start : start + 8], "big")
                start += 8
            end = start + length
            if end > n:
                break
            pos = end
            opcode = b0 & 0x0F
            if opcode == OP_BIN and b0 & 0x80:
                payload = data[start:end]
                if b0 & 0x40:
                    payload = self._inflate(payload)
                self._message(payload, now)
            elif opcode <= OP_BIN:
                self._fragment(b0, data[start:end], now)
            elif opcode == OP_PING:
                self.transport.write(client_frame(data[start:end], OP_PONG))  # type: ignore[union-attr]
            elif opcode == OP_CLOSE:
                body = data[start:end]
                self.close_code = int.from_bytes(body[:2], "big") if len(body) >= 2 else 1005
                self.closed_at = now
                if self._open:
                    self.transport.write(client_frame(body[:2], OP_CLOSE))  # type: ignore[union-attr]
                    self._open = False
                self.transport.close()  # type: ignore[union-attr]
                return
        if pos < n:
            self._buf = data[pos:]

    def _fragment(self, b0: int, chunk: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        if opcode != OP_CONT:
            self._frag = []
            self._frag_rsv1 = bool(b0 & 0x40)
        if self._frag is None:
            return
        self._frag.append(chunk)
        if b0 & 0x80:
            payload = b"".join(self._frag)
            self._frag = None
            if self._frag_rsv1:
                payload = self._inflate(payload)
            if opcode == OP_TEXT:
                return
            self._message(payload, now)

    def _inflate(self, payload: bytes) -> bytes:
        if self._inflater is None or (self.deflate and self.deflate.server_no_takeover):
            self._inflater = zlib.decompressobj(-15)
        return self._inflater.decompress(payload + _TAIL)  # type: ignore[no-any-return]

    def _message(self, payload: bytes, now: float) -> None:
        self.frames_in += 1
        if len(payload) < 2 or payload[0] != 0:
            return  # awareness and anything else: not measured
        kind = payload[1]
        if kind == 2:
            pos = 2
            while payload[pos] & 0x80:  # skip the varUint length prefix
                pos += 1
            if self.recorder is not None:
                self.recorder.on_update(self, payload, pos + 1, now)
        elif kind == 0:
            self.send_message(EMPTY_STEP2)  # we hold nothing the server lacks
        elif kind == 1:
            self.step2_bytes = len(payload)
            if self.keep_step2:
                self.step2_payload = payload
            if not self.synced.done():
                self.synced.set_result(now)
            elif self._step2_waiters:
                self._step2_waiters.popleft().set_result(now)

    def _accept(self, head: str) -> bool:
        lines = head.split("\r\n")
        if " 101 " not in lines[0] + " ":
            self._fail(f"handshake refused: {lines[0]!r}")
            return False
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expect = base64.b64encode(hashlib.sha1(self._key + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expect:
            self._fail("bad Sec-WebSocket-Accept")
            return False
        ext = headers.get("sec-websocket-extensions", "")
        if ext.startswith("permessage-deflate"):
            self.deflate = Deflate(ext)
        self._open = True
        for message in (self._hello, sync_message(0, self._sv)):
            if message:
                self.send_message(message)
        self.opened.set_result(None)
        return True

    def _fail(self, why: str) -> None:
        _fail(self.opened, why)
        if self.transport is not None:
            self.transport.close()


def _fail(future: asyncio.Future[Any], why: str) -> None:
    """Fail a future nobody may be awaiting any more, without an 'exception was never
    retrieved' warning (whoever awaits it still gets the error)."""
    if not future.done():
        future.set_exception(ConnectionError(why))
        future.exception()  # marks it retrieved


async def connect(
    host: str, port: int, path: str, state_vector: bytes, recorder: Recorder | None, **kw: Any
) -> YClient:
    """Open a connection and wait for the WebSocket handshake (not for sync)."""
    loop = asyncio.get_running_loop()
    index = kw.pop("index", 0)
    _, client = await loop.create_connection(
        lambda: YClient(index, host, port, path, state_vector, recorder, **kw), host, port
    )
    await client.opened
    return client
