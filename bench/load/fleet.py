"""Many clients over many rooms, and one measured phase of painting load on them."""

from __future__ import annotations

import asyncio
import collections
import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.load.measure import LagMonitor, LatencyRecorder, Sampler, median, summarize_ms
from bench.load.servers import LOAD_CORE, SERVER_CORE, Server
from bench.load.updates import SEED_MESSAGE, SEED_STATE, Painter
from bench.load.wsclient import FrameEncoder, Recorder, YClient, sync_message

perf_counter = time.perf_counter
DRAIN_TIMEOUT = 5.0


@dataclass
class Fleet:
    """Clients ``index = room * per_room + j``; ``clients[index]`` is None if it failed."""

    rooms: int
    per_room: int
    clients: list[YClient | None] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    connect_s: float = 0.0
    painters: dict[int, Painter] = field(default_factory=dict)
    encoders: dict[int, FrameEncoder] = field(default_factory=dict)
    client_id_base: int = 0

    def room_of(self, index: int) -> int:
        return index // self.per_room

    def live(self) -> list[YClient]:
        return [c for c in self.clients if c is not None and c.is_open]

    def set_recorder(self, recorder: Recorder | None) -> None:
        for c in self.clients:
            if c is not None:
                c.recorder = recorder

    def close_all(self) -> None:
        for c in self.clients:
            if c is not None:
                c.close()


async def open_client(
    server: Server,
    room: str,
    index: int,
    tag: int,
    *,
    deflate: bool,
    hello: bytes,
    state_vector: bytes,
    timeout: float,
) -> YClient:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, client = await loop.create_connection(
            lambda: YClient(
                index,
                server.host,
                server.port,
                server.path(room),
                state_vector,
                None,
                deflate=deflate,
                hello=hello,
                tag=tag,
            ),
            server.host,
            server.port,
        )
        try:
            await client.opened
            await client.synced
        except BaseException:
            client.close()
            raise
    return client


async def connect_fleet(
    targets: list[Server],
    rooms: int,
    per_room: int,
    *,
    room_prefix: str,
    deflate: bool,
    assign: Callable[[int, int], int] = lambda room, j: 0,
    concurrency: int = 100,
    timeout: float = 60.0,
    fleet: Fleet | None = None,
    indexes: list[int] | None = None,
) -> Fleet:
    """Connect and sync clients ``indexes`` (default: all) of a rooms x per_room fleet.

    Each room's first client on each server sends the seed document before its sync step 1
    (concurrent seeds are idempotent CRDT merges) and is synced before that room's other
    clients connect, so their updates never reference structs the server lacks.
    """
    if fleet is None:
        fleet = Fleet(rooms, per_room, client_id_base=random.randrange(1 << 20, 1 << 30))
    total = rooms * per_room
    indexes = list(range(total)) if indexes is None else indexes
    if len(fleet.clients) < total:
        fleet.clients.extend([None] * (total - len(fleet.clients)))
    sem = asyncio.Semaphore(concurrency)
    seeded: set[tuple[int, int]] = {
        (fleet.room_of(i), assign(fleet.room_of(i), i % per_room))
        for i, c in enumerate(fleet.clients)
        if c is not None
    }

    async def one(i: int, hello: bytes) -> None:
        room, j = divmod(i, per_room)
        tag = assign(room, j)
        async with sem:
            try:
                fleet.clients[i] = await open_client(
                    targets[tag],
                    f"{room_prefix}{room:04d}",
                    i,
                    tag,
                    deflate=deflate,
                    hello=hello,
                    state_vector=SEED_STATE,
                    timeout=timeout,
                )
            except (OSError, TimeoutError, ConnectionError) as exc:
                fleet.failures.append(f"client {i}: {type(exc).__name__}: {exc}")

    started = perf_counter()
    seeders, rest = [], []
    for i in indexes:
        room, j = divmod(i, per_room)
        key = (room, assign(room, j))
        if key not in seeded:
            seeded.add(key)
            seeders.append(i)
        else:
            rest.append(i)
    await asyncio.gather(*(one(i, SEED_MESSAGE) for i in seeders))
    await asyncio.gather(*(one(i, b"") for i in rest))
    fleet.connect_s += perf_counter() - started
    return fleet


def _painter(fleet: Fleet, index: int) -> Painter:
    painter = fleet.painters.get(index)
    if painter is None:
        painter = Painter(fleet.client_id_base + index, f"c{index:05d}", seed=index)
        fleet.painters[index] = painter
    return painter


def _encoder(fleet: Fleet, client: YClient) -> FrameEncoder:
    encoder = fleet.encoders.get(client.index)
    if encoder is None:
        encoder = FrameEncoder(client.deflate)
        fleet.encoders[client.index] = encoder
    return encoder


async def run_phase(
    fleet: Fleet,
    *,
    rate: float,
    warmup: float,
    duration: int,
    probes: dict[str, Callable[[], Any]],
    seed: int,
    split_by_tag: bool = False,
    on_start: Callable[[float, LatencyRecorder], object] | None = None,
) -> dict[str, Any]:
    """Every live client sends ``rate`` updates/s (fixed interval, random phase) for
    ``warmup`` + ``duration`` s; deliveries of updates scheduled in the window are measured.

    ``on_start(window_start, recorder)`` is called as the phase starts, with the
    ``perf_counter`` time at which the measured window will open and the recorder of the
    deliveries (FLOOD starts its flooder from it and reads the raw latencies afterwards)."""
    rng = random.Random(seed)
    clients = fleet.live()
    room_sizes = collections.Counter(fleet.room_of(c.index) for c in clients)
    interval = 1.0 / rate
    horizon = warmup + duration
    entries: list[tuple[float, int, int, bytes, int]] = []
    build_started = perf_counter()
    for c in clients:
        painter, encoder = _painter(fleet, c.index), _encoder(fleet, c)
        t = rng.uniform(0, interval)
        while t < horizon:
            key, update = painter.next_update()
            frame = encoder.encode(sync_message(2, update))
            second = int(t - warmup) if t >= warmup else -1
            entries.append((t, c.index, key, frame, second))
            t += interval
    entries.sort(key=lambda e: e[0])
    build_s = perf_counter() - build_started

    recorder = LatencyRecorder(duration, split_by_tag)
    fleet.set_recorder(recorder)
    sent = recorder.sent
    by_index = fleet.clients
    slips: list[float] = []
    lag = LagMonitor()
    sampler = Sampler(probes)
    expected = updates_sent = 0

    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        lag.start()
        t0 = perf_counter() + 0.05
        window_start = t0 + warmup
        if on_start is not None:
            on_start(window_start, recorder)
        sampling = asyncio.create_task(sampler.run_until(window_start, duration))
        burst = 0
        for t, index, key, frame, second in entries:
            due = t0 + t
            now = perf_counter()
            if now < due:
                await asyncio.sleep(due - now)
                now = perf_counter()
                burst = 0
            else:
                burst += 1
                if burst >= 200:  # far behind: still let receipts in
                    await asyncio.sleep(0)
                    burst = 0
                    now = perf_counter()
            client = by_index[index]
            if client is None or not client.is_open:
                continue
            slips.append(now - due)
            sent[key] = (now, index, second, client.tag)
            client.transport.write(frame)  # type: ignore[union-attr]
            if second >= 0:
                updates_sent += 1
                expected += room_sizes[fleet.room_of(index)] - 1
        await sampling
        last_send = perf_counter()
        while recorder.delivered < expected and perf_counter() - last_send < DRAIN_TIMEOUT:
            await asyncio.sleep(0.02)
        drain_s = perf_counter() - last_send
        await lag.stop()
    finally:
        gc.enable()
        gc.unfreeze()
    fleet.set_recorder(None)

    per_second = []
    server_seconds = {name: sampler.per_second(name) for name in probes}
    gen_seconds = sampler.gen_per_second()
    lag_seconds = lag.per_second_max(window_start, duration)
    for k, bucket in enumerate(recorder.per_second):
        row: dict[str, Any] = summarize_ms(bucket)
        for name, values in server_seconds.items():
            if k < len(values):
                row[f"{name}_cpu"] = values[k][0]
                row[f"{name}_rss_mib"] = values[k][1] / 2**20
        row["gen_cpu"] = gen_seconds[k] if k < len(gen_seconds) else float("nan")
        row["lag_max_ms"] = lag_seconds[k]
        per_second.append(row)
    p99s = [r["p99"] for r in per_second if r["n"]]
    closed = [c for c in clients if not c.is_open]
    slips.sort()
    result: dict[str, Any] = {
        "rate": rate,
        "duration": duration,
        "clients": len(clients),
        "updates_sent": updates_sent,
        "expected": expected,
        "delivered": recorder.delivered,
        "missing": expected - recorder.delivered,
        "echoes": recorder.echoes,
        "unknown_update_frames": recorder.unknown,
        "latency": summarize_ms(recorder.all_latencies()),
        "typical_p99": median(p99s),
        "secs_over_50": sum(1 for v in p99s if v > 50),
        "per_second": per_second,
        "server_cpu_pct": {name: sampler.cpu_pct(name) for name in probes},
        "server_rss_mib": {name: sampler.rss_max(name) / 2**20 for name in probes},
        "gen_cpu_pct": sampler.gen_cpu_pct(),
        **lag.summary(window_start),
        "slip_p99_ms": (slips[int(0.99 * (len(slips) - 1))] * 1e3) if slips else 0.0,
        "slip_max_ms": (slips[-1] * 1e3) if slips else 0.0,
        "other_load_pct": sampler.other_load_pct(SERVER_CORE, LOAD_CORE),
        "wait_pct": sampler.wait_pct(),
        "servers_share_core": len(probes) > 1,  # they then wait for each other, too
        "drain_s": drain_s,
        "build_s": build_s,
        "clients_closed": len(closed),
        "close_codes": dict(collections.Counter(str(c.close_code) for c in closed)),
    }
    if split_by_tag:
        result["same"] = summarize_ms(recorder.same)
        result["cross"] = summarize_ms(recorder.cross)
    return result
