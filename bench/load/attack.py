"""The STARVE scenario's attacker: a protocol fuzzer, memory hogs and a connection storm.

Everything comes from one address (the honest clients' 127.0.0.1) over raw sockets, so no
client library tidies the bytes up. Three parts run together for ``duration`` seconds:

- **fuzz**: workers that connect, send malformed frames of one kind and read until the
  server closes them, then reconnect, until ``frames`` frames are sent. The kinds cover the
  y-websocket layer (bad varints, truncated sync messages, giant length prefixes, garbage
  updates and awareness) and the WebSocket layer (giant and oversized frame lengths, text
  frames, reserved opcodes and bits, unmasked frames, stray continuations, fragmented control
  frames, interleaved and endlessly fragmented messages);
- **hogs**: connections that hold memory on the server: a frame just under the size limit
  sent in part and left hanging, a slow-loris frame (a few bytes a second), a slow-loris
  handshake, and clients that ask for a big document again and again and never read;
- **storm**: ``storm`` connections opened as fast as the server takes them, each synced to
  one of a few rooms and then held idle until the end.

Close codes are the ones the server sent (read from its close frame); ``none`` means it
closed the TCP connection without one, ``open`` that it was still open at the end.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import os
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map

from bench.load.wsclient import OP_BIN, OP_CLOSE, OP_PING, OP_TEXT, client_frame, var_uint

OP_CONT = 0
# A write to a connection the server closed: uvloop raises RuntimeError, asyncio OSErrors.
_GONE = (ConnectionError, OSError, RuntimeError)
perf_counter = time.perf_counter

_BIG_ROOM = "starve-big"
_STORM_ROOMS = 10


def _ws_frame(payload: bytes, opcode: int = OP_BIN, *, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client frame with any FIN bit, opcode and RSV bits (client_frame sets FIN)."""
    frame = bytearray(client_frame(payload, opcode & 0x0F))
    frame[0] = (0x80 if fin else 0) | (rsv << 4) | (opcode & 0x0F)
    return bytes(frame)


def _header(length: int, opcode: int = OP_BIN, *, masked: bool = True) -> bytes:
    """Only the header of a frame claiming ``length`` payload bytes (mask key included)."""
    b0 = 0x80 | opcode
    m = 0x80 if masked else 0
    if length < 126:
        head = bytes((b0, m | length))
    elif length < 1 << 16:
        head = bytes((b0, m | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((b0, m | 127)) + length.to_bytes(8, "big")
    return head + (os.urandom(4) if masked else b"")


def big_update(size: int) -> bytes:
    """A valid Yjs update of about ``size`` bytes (one long string in a map)."""
    doc: Doc[Any] = Doc()
    doc.get("starve", type=Map)["blob"] = "x" * size
    return doc.get_update()


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One server frame (unmasked): its opcode and payload."""
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(length)


def _y(kind: int, payload: bytes) -> bytes:
    return bytes((0, kind)) + var_uint(len(payload)) + payload


# Each fuzz kind: the frames one connection sends (then it reads until it is closed).
def _fuzz_frames(kind: str, rng: random.Random) -> list[bytes]:
    junk = rng.randbytes(rng.randint(1, 40))
    if kind == "bad_varint":
        return [_ws_frame(b"\x00\x02" + b"\xff" * 12 + b"\x01")]
    if kind == "truncated_sync":
        body = rng.choice([b"\x00\x00\x05\x01", b"\x00\x01\x40" + junk[:8], b"\x00", b"\x00\x02"])
        return [_ws_frame(body)]
    if kind == "giant_prefix":
        return [_ws_frame(b"\x00\x02" + var_uint(1 << rng.randint(31, 62)) + junk)]
    if kind == "garbage_update":
        return [_ws_frame(_y(2, junk))]
    if kind == "garbage_awareness":
        return [_ws_frame(b"\x01" + var_uint(len(junk) + 3) + b"\x05" + junk)]
    if kind == "unknown_type":
        return [_ws_frame(bytes((rng.randint(4, 200),)) + junk) for _ in range(4)]
    if kind == "giant_ws_length":
        return [_header(1 << 62) + junk]
    if kind == "oversized":
        return [_header(64 * 1024 * 1024) + rng.randbytes(16 * 1024)]
    if kind == "text_frame":
        return [_ws_frame(b"hello", OP_TEXT)]
    if kind == "bad_opcode":
        return [_ws_frame(junk, rng.choice([3, 4, 5, 6, 7, 11, 12, 15]))]
    if kind == "rsv_bits":
        return [_ws_frame(_y(2, junk), rsv=rng.randint(1, 7))]
    if kind == "unmasked":
        return [_header(len(junk), masked=False) + junk]
    if kind == "stray_continuation":
        return [_ws_frame(junk, OP_CONT)]
    if kind == "fragmented_ping":
        return [_ws_frame(b"p", OP_PING, fin=False)]
    if kind == "interleaved":
        return [_ws_frame(b"\x00\x02", fin=False), _ws_frame(junk)]
    if kind == "many_fragments":
        frames = [_ws_frame(b"\x00", fin=False)]
        frames += [_ws_frame(rng.randbytes(1), OP_CONT, fin=False) for _ in range(40)]
        return [*frames, _ws_frame(b"\xff", OP_CONT)]
    if kind == "big_ping":
        return [_header(200, OP_PING) + rng.randbytes(200)]
    raise ValueError(kind)


FUZZ_KINDS = (
    "bad_varint", "truncated_sync", "giant_prefix", "garbage_update", "garbage_awareness",
    "unknown_type", "giant_ws_length", "oversized", "text_frame", "bad_opcode", "rsv_bits",
    "unmasked", "stray_continuation", "fragmented_ping", "interleaved", "many_fragments",
    "big_ping",
)  # fmt: skip


class Refused(Exception):
    """The server answered the upgrade with something other than 101."""


@dataclass
class AttackStats:
    frames: collections.Counter[str] = field(default_factory=collections.Counter)
    closes: collections.Counter[str] = field(default_factory=collections.Counter)
    connections: collections.Counter[str] = field(default_factory=collections.Counter)
    refused: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    storm_synced: int = 0
    storm_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames": sum(self.frames.values()),
            "frames_by_kind": dict(self.frames),
            "connections": dict(self.connections),
            "refused": dict(self.refused),
            "closes": dict(self.closes),
            "errors": dict(self.errors),
            "storm_synced": self.storm_synced,
            "storm_s": self.storm_s,
        }


class Attack:
    """One run of the attack against ``host:port`` (WebSocket paths ``prefix + room``)."""

    def __init__(
        self,
        host: str,
        port: int,
        prefix: str = "/ws/",
        *,
        duration: float = 30.0,
        frames: int = 8000,
        storm: int = 600,
        storm_at: float = 5.0,
        fuzzers: int = 32,
        hanging: int = 60,
        loris: int = 30,
        never_read: int = 30,
        max_frame_bytes: int = 4 * 1024 * 1024,
        big_doc_bytes: int = 1024 * 1024,
        seed: int = 1,
    ) -> None:
        self.host, self.port, self.prefix = host, port, prefix
        self.duration = duration
        self.frames = frames
        self.storm, self.storm_at, self.fuzzers = storm, storm_at, fuzzers
        self.hanging, self.loris, self.never_read = hanging, loris, never_read
        self.max_frame_bytes = max_frame_bytes
        self.big_doc_bytes = big_doc_bytes
        self.rng = random.Random(seed)
        self.stats = AttackStats()
        self._held: list[asyncio.StreamWriter] = []
        self._end = 0.0

    async def run(self) -> dict[str, Any]:
        started = perf_counter()
        self._end = started + self.duration
        per_worker = -(-self.frames // self.fuzzers)
        parts: list[Awaitable[None]] = [self._fuzz(k, per_worker) for k in range(self.fuzzers)]
        parts.append(self._hogs())
        parts.append(self._storm())
        await asyncio.gather(*parts)
        for writer in self._held:  # still open at the end
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._held.clear()
        result = self.stats.as_dict()
        result["duration_s"] = perf_counter() - started
        return result

    def _left(self) -> float:
        return self._end - perf_counter()

    # -- connections ------------------------------------------------------------------------

    async def _open(
        self, room: str, what: str, *, limit: int = 64 * 1024
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=limit)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {self.prefix}{room} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError) as exc:
            writer.transport.abort()
            self.stats.refused[f"{what}:no answer"] += 1
            raise Refused(str(exc)) from exc
        status = head.split(b" ", 2)[1].decode(errors="replace") if b" " in head else "?"
        self.stats.connections[what] += 1
        if status != "101":
            writer.transport.abort()
            self.stats.refused[f"{what}:{status}"] += 1
            raise Refused(status)
        return reader, writer

    async def _close_code(self, reader: asyncio.StreamReader, timeout: float) -> str:
        """Read server frames until its close frame (its code) or EOF ("none")."""
        try:
            async with asyncio.timeout(max(0.1, timeout)):
                while True:
                    opcode, body = await _read_frame(reader)
                    if opcode == OP_CLOSE:
                        return str(int.from_bytes(body[:2], "big")) if len(body) >= 2 else "1005"
        except (asyncio.IncompleteReadError, ConnectionError):
            return "none"
        except TimeoutError:
            return "open"

    # -- fuzz -------------------------------------------------------------------------------

    async def _fuzz(self, worker: int, frames: int) -> None:
        rng = random.Random(self.rng.random())
        sent = 0
        k = worker
        # Spread the frames over the window rather than sending them all at once.
        pace = self.duration * 0.9 / max(1, frames)
        while sent < frames and self._left() > 0.5:
            kind = FUZZ_KINDS[k % len(FUZZ_KINDS)]
            k += 1
            try:
                reader, writer = await self._open(f"starve-fuzz-{worker % 4}", "fuzz")
            except (Refused, OSError):
                await asyncio.sleep(0.05)
                continue
            batch = _fuzz_frames(kind, rng)
            try:
                for frame in batch:
                    writer.write(frame)
                    self.stats.frames[kind] += 1
                    sent += 1
                await writer.drain()
            except _GONE:
                self.stats.errors["fuzz write"] += 1
            code = await self._close_code(reader, min(1.0, self._left()))
            self.stats.closes[f"fuzz:{code}"] += 1
            writer.transport.abort()
            await asyncio.sleep(pace * len(batch))

    # -- memory hogs ------------------------------------------------------------------------

    async def _hogs(self) -> None:
        await asyncio.sleep(min(2.0, self.duration / 10))
        await self._seed_big_doc()
        parts = [self._hanging(i) for i in range(self.hanging)]
        parts += [self._loris(i) for i in range(self.loris)]
        parts += [self._handshake_loris(i) for i in range(self.loris // 3)]
        parts += [self._never_reader(i) for i in range(self.never_read)]
        await asyncio.gather(*parts)

    async def _hold(self, what: str, reader: asyncio.StreamReader, writer: Any) -> None:
        self._held.append(writer)
        code = await self._close_code(reader, self._left())
        self.stats.closes[f"{what}:{code}"] += 1
        writer.transport.abort()

    async def _hanging(self, i: int) -> None:
        """A frame just under the size limit, 3/4 of it sent, the rest never."""
        await asyncio.sleep(i * 0.05)
        try:
            reader, writer = await self._open(f"starve-hang-{i % 4}", "hanging")
        except (Refused, OSError):
            return
        size = self.max_frame_bytes - 64
        try:
            writer.write(_header(size))
            chunk = os.urandom(64 * 1024)
            for _ in range(size * 3 // 4 // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            self.stats.frames["hanging"] += 1
        except _GONE:
            self.stats.errors["hanging write"] += 1
        await self._hold("hanging", reader, writer)

    async def _loris(self, i: int) -> None:
        """A 4 KiB frame sent a few bytes at a time."""
        try:
            reader, writer = await self._open(f"starve-loris-{i % 4}", "loris")
        except (Refused, OSError):
            return
        self._held.append(writer)
        frame = _ws_frame(_y(2, os.urandom(4096)))
        self.stats.frames["loris"] += 1
        pos = 0
        read = asyncio.ensure_future(self._close_code(reader, self._left()))
        while pos < len(frame) and not read.done() and self._left() > 0:
            try:
                writer.write(frame[pos : pos + 8])
            except _GONE:
                break
            pos += 8
            await asyncio.wait([read], timeout=0.25)
        code = await read
        self.stats.closes[f"loris:{code}"] += 1
        writer.transport.abort()

    async def _handshake_loris(self, i: int) -> None:
        """An HTTP upgrade request whose headers never end."""
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return
        self._held.append(writer)
        self.stats.connections["handshake_loris"] += 1
        writer.write(f"GET {self.prefix}starve-hs HTTP/1.1\r\n".encode())
        while self._left() > 0 and not writer.transport.is_closing():
            try:
                writer.write(f"X-Pad-{self.rng.randrange(1 << 30)}: {'a' * 200}\r\n".encode())
            except _GONE:
                break
            await asyncio.sleep(0.5)
            if reader.at_eof():
                break
        self.stats.closes["handshake_loris:" + ("none" if reader.at_eof() else "open")] += 1
        writer.transport.abort()

    async def _seed_big_doc(self) -> None:
        """Put a ~1 MiB valid update in a room of its own (never an honest one)."""
        try:
            reader, writer = await self._open(_BIG_ROOM, "seed")
        except (Refused, OSError):
            return
        try:
            writer.write(_ws_frame(_y(2, big_update(self.big_doc_bytes))))
            writer.write(_ws_frame(_y(0, b"\x00")))  # step 1: its step 2 says it landed
            await writer.drain()
        except _GONE:
            self.stats.errors["seed"] += 1
        await self._close_code(reader, 1.0)
        writer.transport.abort()

    async def _never_reader(self, i: int) -> None:
        """Asks for the big document's full state again and again and reads nothing."""
        await asyncio.sleep(i * 0.1)
        try:
            # A small receive buffer: the kernel holds little for it, the server the rest.
            _, writer = await self._open(_BIG_ROOM, "never_read", limit=1024)
        except (Refused, OSError):
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._held.append(writer)
        step1 = _ws_frame(_y(0, b"\x00"))
        try:
            for _ in range(40):
                writer.write(step1)
                self.stats.frames["never_read"] += 1
                await asyncio.sleep(0.05)
        except _GONE:
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.sleep(max(0.0, self._left()))
        self.stats.closes[
            "never_read:" + ("none" if writer.transport.is_closing() else "open")
        ] += 1
        writer.transport.abort()

    # -- storm ------------------------------------------------------------------------------

    async def _storm(self) -> None:
        await asyncio.sleep(min(self.storm_at, self.duration / 3))
        started = perf_counter()
        sem = asyncio.Semaphore(100)
        await asyncio.gather(*(self._storm_one(i, sem) for i in range(self.storm)))
        self.stats.storm_s = perf_counter() - started

    async def _storm_one(self, i: int, sem: asyncio.Semaphore) -> None:
        async with sem:
            try:
                reader, writer = await self._open(f"starve-storm-{i % _STORM_ROOMS}", "storm")
            except (Refused, OSError):
                return
            try:
                writer.write(_ws_frame(_y(0, b"\x00")))
                async with asyncio.timeout(10):
                    while True:  # until the server's step 2
                        opcode, body = await _read_frame(reader)
                        if opcode == OP_CLOSE:
                            raise ConnectionError("closed")
                        if body[:2] == b"\x00\x01":
                            break
                        if body[:2] == b"\x00\x00":
                            writer.write(_ws_frame(_y(1, b"\x00\x00")))
                self.stats.storm_synced += 1
            except (TimeoutError, asyncio.IncompleteReadError, *_GONE):
                self.stats.errors["storm sync"] += 1
        await self._hold("storm", reader, writer)


async def attack(host: str, port: int, prefix: str = "/ws/", **kw: Any) -> dict[str, Any]:
    return await Attack(host, port, prefix, **kw).run()
