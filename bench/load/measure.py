"""What a measured phase records: fan-out latency per delivery, bucketed by the second the
update was scheduled in; the event-loop lag of the generator; per-second samples of the
server's CPU and memory and of the generator's CPU."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from bench.load.wsclient import Recorder, YClient
from bench.load.yupdate import struct_ranges

perf_counter = time.perf_counter


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summarize_ms(values: Sequence[float]) -> dict[str, float]:
    s = sorted(values)
    return {
        "n": len(s),
        "p50": percentile(s, 50) * 1e3,
        "p90": percentile(s, 90) * 1e3,
        "p99": percentile(s, 99) * 1e3,
        "max": (s[-1] * 1e3) if s else float("nan"),
    }


class LatencyRecorder(Recorder):
    """Send table (update key -> send time, sender, second, sender tag) and the receipts.

    A receipt by the sender itself (the reference server echoes every update to its sender)
    is counted apart and not a delivery; an update frame whose key is not in the table (our
    server's history entries, which are the server's own transactions) is ignored. One frame
    may deliver several updates (a server that merges the updates of one loop turn): every
    sent update whose first clock lies in one of the frame's struct groups is delivered.
    """

    def __init__(self, seconds: int, split_by_tag: bool = False) -> None:
        self.sent: dict[int, tuple[float, int, int, int]] = {}
        self.per_second = [array("d") for _ in range(seconds)]
        self.split = split_by_tag
        self.same = array("d")
        self.cross = array("d")
        self.delivered = 0
        self.echoes = 0
        self.warmup_deliveries = 0
        self.unknown = 0
        self._ranges: dict[bytes, list[tuple[int, int, int]]] = {}

    def on_update(self, client: YClient, payload: bytes, pos: int, now: float) -> None:
        body = payload[pos:] if pos else payload
        ranges = self._ranges.get(body)  # a broadcast reaches every receiver with one body
        if ranges is None:
            try:
                ranges = struct_ranges(body)
            except (IndexError, ValueError):
                self.unknown += 1
                return
            if len(self._ranges) >= 100_000:
                self._ranges.clear()
            self._ranges[body] = ranges
        sent = self.sent
        hits = 0
        for client_id, clock, length in ranges:
            base = client_id << 32
            for key in range(base + clock, base + clock + length):
                record = sent.get(key)
                if record is not None:
                    hits += 1
                    self._deliver(client, record, now)
        if not hits:
            self.unknown += 1

    def _deliver(self, client: YClient, record: tuple[float, int, int, int], now: float) -> None:
        sent_at, sender, second, tag = record
        if sender == client.index:
            self.echoes += 1
            return
        if second < 0:
            self.warmup_deliveries += 1
            return
        latency = now - sent_at
        self.per_second[second].append(latency)
        self.delivered += 1
        if self.split:
            (self.same if tag == client.tag else self.cross).append(latency)

    def all_latencies(self) -> list[float]:
        out: list[float] = []
        for bucket in self.per_second:
            out.extend(bucket)
        return out


class LagMonitor:
    """A 10 ms ticker: how late the generator's event loop runs its callbacks."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.lags: array[float] = array("d")
        self.times: array[float] = array("d")
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        expected = perf_counter() + self.period
        while True:
            await asyncio.sleep(self.period)
            now = perf_counter()
            self.lags.append(max(0.0, now - expected))
            self.times.append(now)
            expected = now + self.period

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def per_second_max(self, start: float, seconds: int) -> list[float]:
        out = [0.0] * seconds
        for t, lag in zip(self.times, self.lags, strict=True):
            k = int(t - start)
            if 0 <= k < seconds and lag > out[k]:
                out[k] = lag
        return [v * 1e3 for v in out]

    def summary(self, start: float = 0.0) -> dict[str, float]:
        s = sorted(lag for t, lag in zip(self.times, self.lags, strict=True) if t >= start)
        return {"lag_p99_ms": percentile(s, 99) * 1e3, "lag_max_ms": (s[-1] * 1e3) if s else 0.0}


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def core_busy() -> dict[int, float]:
    """CPU seconds each core spent running processes since boot (user + nice + system; not
    interrupts, which no process is charged for)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            name, *fields = line.split()
            ticks = [int(v) for v in fields[:3]]
            out[int(name[3:])] = sum(ticks) / _CLK_TCK
    return out


def run_delay(pid: int | str = "self") -> float:
    """Seconds the process's main thread (the event loop) spent runnable but waiting for a
    CPU (``/proc/<pid>/schedstat``): how much other processes got in its way."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def own_cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for (the
    servers, once stopped, py-spy, npm)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class ForeignLoad:
    """CPU that processes other than ours used on this machine between ``start`` and
    ``stop`` (a shared machine: other people's jobs), in % of one core."""

    def start(self) -> None:
        self._busy = sum(core_busy().values())
        self._own = own_cpu()
        self._wall = perf_counter()

    def stop(self) -> float:
        busy = sum(core_busy().values()) - self._busy
        own = own_cpu() - self._own
        return 100 * max(0.0, busy - own) / max(1e-9, perf_counter() - self._wall)


def generator_cpu() -> float:
    t = os.times()
    return t.user + t.system


class Sampler:
    """Samples the servers and the generator once per second of the measured window."""

    def __init__(self, probes: dict[str, Callable[[], Any]]) -> None:
        self.probes = probes
        self.rows: list[dict[str, Any]] = []

    def take(self) -> None:
        row: dict[str, Any] = {
            "wall": perf_counter(),
            "gen_cpu": generator_cpu(),
            "gen_delay": run_delay(),
            "cores": core_busy(),
        }
        for name, probe in self.probes.items():
            try:
                s = probe()
                row[name] = (s.cpu, s.rss, s.delay)
            except (OSError, ValueError):
                row[name] = None
        self.rows.append(row)

    def wait_pct(self) -> dict[str, float]:
        """% of the window each event loop (servers', generator's) waited for its core."""
        if len(self.rows) < 2:
            return {}
        first, last = self.rows[0], self.rows[-1]
        wall = float(last["wall"] - first["wall"])
        out = {"generator": 100 * float(last["gen_delay"] - first["gen_delay"]) / wall}
        for name in self.probes:
            if last.get(name) and first.get(name):
                out[name] = 100 * float(last[name][2] - first[name][2]) / wall
        return out

    async def run_until(self, start: float, seconds: int) -> None:
        """Sample at ``start`` and every second after it, ``seconds`` times after the first."""
        for k in range(seconds + 1):
            delay = start + k - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.take()

    def cpu_pct(self, name: str) -> float:
        rows = [r for r in self.rows if r.get(name)]
        if len(rows) < 2:
            return float("nan")
        cpu = float(rows[-1][name][0] - rows[0][name][0])
        return 100 * cpu / float(rows[-1]["wall"] - rows[0]["wall"])

    def gen_cpu_pct(self) -> float:
        if len(self.rows) < 2:
            return float("nan")
        first, last = self.rows[0], self.rows[-1]
        return 100 * float(last["gen_cpu"] - first["gen_cpu"]) / float(last["wall"] - first["wall"])

    def other_load_pct(self, server_core: int, load_core: int) -> dict[str, float]:
        """CPU % used on each pinned core by processes other than ours (other users' jobs
        on a shared machine): core busy time minus our servers' (resp. the generator's)."""
        if len(self.rows) < 2:
            return {}
        first, last = self.rows[0], self.rows[-1]
        wall = last["wall"] - first["wall"]
        ours = sum(last[n][0] - first[n][0] for n in self.probes if last.get(n) and first.get(n))
        busy = {c: last["cores"].get(c, 0.0) - first["cores"].get(c, 0.0) for c in last["cores"]}
        gen = last["gen_cpu"] - first["gen_cpu"]
        return {
            "server_core": 100 * max(0.0, busy.get(server_core, 0.0) - ours) / wall,
            "load_core": 100 * max(0.0, busy.get(load_core, 0.0) - gen) / wall,
        }

    def rss_max(self, name: str) -> float:
        values = [r[name][1] for r in self.rows if r.get(name)]
        return max(values) if values else float("nan")

    def per_second(self, name: str) -> list[tuple[float, float]]:
        """(CPU %, RSS bytes) for each second of the window."""
        out = []
        for a, b in zip(self.rows, self.rows[1:], strict=False):
            if a.get(name) and b.get(name):
                out.append((100 * (b[name][0] - a[name][0]) / (b["wall"] - a["wall"]), b[name][1]))
            else:
                out.append((float("nan"), float("nan")))
        return out

    def gen_per_second(self) -> list[float]:
        return [
            100 * (b["gen_cpu"] - a["gen_cpu"]) / (b["wall"] - a["wall"])
            for a, b in zip(self.rows, self.rows[1:], strict=False)
        ]


def median(values: Sequence[float]) -> float:
    kept = [float(v) for v in values if v == v]
    return float(statistics.median(kept)) if kept else float("nan")
