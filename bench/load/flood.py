"""FLOOD: one connection floods a busy room far over the per-connection message limit.

Issue 8's acceptance: the flooder is closed (1008, policy violation) and the room's other
clients lose nothing, their latency bounded. Ours only (the reference server has no limits).
The per-address limits are lifted as in every scenario (all clients share 127.0.0.1); the
per-connection message and byte limits stay at the server's defaults.

One room of ``PAINTERS`` clients paints at S1's rate (5 updates/s each) through the usual
measured phase; ``FLOOD_AT`` seconds into the window one more connection (an editor, synced
like the others) writes ``FLOOD_FRAMES`` small valid painting updates as fast as its socket
takes them. A witness (another extra connection) counts the flood's updates that reached the
room, i.e. that the server applied before it closed the flooder. The painters' latencies are
summarised by the second their update was sent in: before the flood, during it (from its
first second to the second the flooder's close arrived) and after.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import Any

from bench.load import servers
from bench.load.fleet import connect_fleet, open_client, run_phase
from bench.load.measure import LatencyRecorder, summarize_ms
from bench.load.scenarios import Options, _connect_info
from bench.load.updates import SEED_STATE, Painter
from bench.load.wsclient import FrameEncoder, Recorder, YClient, sync_message, update_key
from collab.settings import Settings

perf_counter = time.perf_counter

PAINTERS = 20
RATE = 5.0
WARMUP = 2.0
DURATION = 12
FLOOD_AT = 4  # seconds into the measured window
FLOOD_FRAMES = 30_000  # far over the default limit (1000/s, burst 2000)
_CHUNK = 500  # frames per write: the flooder yields to the loop between chunks
_ROOM = "flood-0000"  # connect_fleet's name of room 0 with this prefix


def message_limit() -> float:
    """The per-connection limit the server runs with: its default unless the environment
    (which the server inherits) sets one."""
    env = os.environ.get("NEXUS_MAX_MESSAGES_PER_SECOND")
    return float(env) if env else Settings().max_messages_per_second


class FloodCounter(Recorder):
    """The witness's recorder: which of the flood's updates reached the room, and when."""

    def __init__(self, keys: set[int]) -> None:
        self.keys = keys
        self.received: set[int] = set()
        self.last_at = 0.0

    def on_update(self, client: YClient, payload: bytes, pos: int, now: float) -> None:
        try:
            key = update_key(payload, pos)
        except IndexError:
            return
        if key in self.keys:
            self.received.add(key)
            self.last_at = now


def phase_latencies(
    per_second: Sequence[Sequence[float]], first: int, last: int
) -> dict[str, dict[str, Any]]:
    """Latency summaries (ms) of the deliveries of updates sent before second ``first``,
    from ``first`` to ``last`` (inclusive) and after it; ``per_second[k]`` holds the
    latencies (s) of updates sent in second ``k`` of the window."""
    n = len(per_second)
    first = max(0, min(first, n))
    end = max(first, min(last + 1, n))  # a close in an earlier second still ends "during"
    spans = {"before": (0, first), "during": (first, end), "after": (end, n)}
    out: dict[str, dict[str, Any]] = {}
    for phase, (lo, hi) in spans.items():
        values = [v for k in range(lo, hi) for v in per_second[k]]
        out[phase] = {"seconds": [lo, hi], **summarize_ms(values)}
    return out


async def run_flood(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    if server_name != "ours":
        raise ValueError("FLOOD runs on ours only (the reference server has no limits)")
    srv = await servers.start("ours")
    try:
        fleet = await connect_fleet([srv], 1, PAINTERS, room_prefix="flood-", deflate=opts.deflate)
        flooder, witness = [
            await open_client(
                srv,
                _ROOM,
                PAINTERS + k,
                0,
                deflate=opts.deflate,
                hello=b"",
                state_vector=SEED_STATE,
                timeout=30,
            )
            for k in range(2)
        ]
        painter = Painter(fleet.client_id_base + PAINTERS, "flood", seed=seed)
        updates = [painter.next_update() for _ in range(FLOOD_FRAMES)]
        encoder = FrameEncoder(flooder.deflate)
        frames = [encoder.encode(sync_message(2, update)) for _, update in updates]
        counter = FloodCounter({key for key, _ in updates})
        witness.recorder = counter

        state: dict[str, Any] = {}

        def start(window_start: float, recorder: LatencyRecorder) -> None:
            state["window_start"] = window_start
            state["recorder"] = recorder
            state["task"] = asyncio.create_task(
                _flood(flooder, frames, window_start + FLOOD_AT, state)
            )

        result = await run_phase(
            fleet,
            rate=RATE,
            warmup=WARMUP,
            duration=DURATION,
            probes={"server": srv.sample},
            seed=seed,
            on_start=start,
        )
        await state["task"]
        window_start = state["window_start"]
        recorder: LatencyRecorder = state["recorder"]
        closed_at = state.get("closed_at")
        last = DURATION - 1 if closed_at is None else int(closed_at - window_start)
        result.update(_connect_info(fleet))
        result["phases"] = phase_latencies(recorder.per_second, FLOOD_AT, last)
        result["flood"] = {
            "start_s": FLOOD_AT,
            "limit_messages_per_s": message_limit(),
            "frames_written": state["written"],
            "write_ms": state["write_ms"],
            "close_code": flooder.close_code,
            "closed": closed_at is not None,
            "start_to_close_ms": None
            if closed_at is None
            else (closed_at - state["started"]) * 1e3,
            "accepted": len(counter.received),
            "last_accepted_after_ms": (counter.last_at - state["started"]) * 1e3
            if counter.received
            else None,
            "witness_open": witness.is_open,
        }
        witness.close()
        flooder.close()
        fleet.close_all()
        return result
    finally:
        await servers.stop(srv)


async def _flood(flooder: YClient, frames: list[bytes], at: float, state: dict[str, Any]) -> None:
    """At ``at``, write ``frames`` as fast as the transport takes them, until the server
    closes the connection; then wait (up to 10 s) for its close."""
    await asyncio.sleep(max(0.0, at - perf_counter()))
    started = state["started"] = perf_counter()
    written = 0
    for i in range(0, len(frames), _CHUNK):
        if not flooder.is_open:
            break
        flooder.send_raw(b"".join(frames[i : i + _CHUNK]))
        written += len(frames[i : i + _CHUNK])
        await asyncio.sleep(0)
    state["written"] = written
    state["write_ms"] = (perf_counter() - started) * 1e3
    try:
        await asyncio.wait_for(asyncio.shield(flooder.closed), 10.0)
    except TimeoutError:
        return
    state["closed_at"] = flooder.closed_at or perf_counter()
