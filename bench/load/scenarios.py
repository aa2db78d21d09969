"""The scenarios of issue 5. Each ``run_*`` starts fresh server(s), measures, stops them and
returns a JSON-able dict; ``main`` repeats them and ``report`` summarises."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc

from bench.load import servers
from bench.load.fleet import Fleet, connect_fleet, open_client, run_phase
from bench.load.measure import median
from bench.load.updates import SEED_MESSAGE, SEED_STATE, build_document
from bench.load.wsclient import FrameEncoder, sync_message, var_uint

perf_counter = time.perf_counter


@dataclass
class Options:
    quick: bool = False
    long: bool = False
    deflate: bool = True
    redis_url: str = "redis://127.0.0.1:6379/0"
    s3_stages: tuple[int, ...] = (1000, 5000, 10000)
    s4_updates: int = 20000
    s5_rate: float = 1.0  # updates/s per client (S2's load); lower it to see crossing alone
    ramp_rates: tuple[float, ...] = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20)
    profile_shape: str = "S1"  # PROFILE's load: S1 (1 room x 50 x 5/s) or S2 (100 x 10 x 1/s)
    profile_dir: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "nexus-bench-profile"
    )

    @property
    def warmup(self) -> float:
        return 2.0 if self.quick else 5.0

    @property
    def duration(self) -> int:
        return 5 if self.quick else 20

    @property
    def long_duration(self) -> int:
        return 60


# -- S1, S2 (and their long runs): fan-out latency at a fixed rate ----------------------------


async def run_fanout(
    server_name: str,
    opts: Options,
    *,
    rooms: int,
    per_room: int,
    rate: float,
    duration: int,
    seed: int,
    prefix: str,
) -> dict[str, Any]:
    srv = await servers.start(server_name)
    try:
        fleet = await connect_fleet(
            [srv], rooms, per_room, room_prefix=prefix, deflate=opts.deflate
        )
        result = await run_phase(
            fleet,
            rate=rate,
            warmup=opts.warmup,
            duration=duration,
            probes={"server": srv.sample},
            seed=seed,
        )
        result.update(_connect_info(fleet))
        fleet.close_all()
        return result
    finally:
        await servers.stop(srv)


def _connect_info(fleet: Fleet) -> dict[str, Any]:
    deflate = next((c.deflate for c in fleet.clients if c is not None), None)
    return {
        "connect_failures": len(fleet.failures),
        "connect_failure_examples": fleet.failures[:3],
        "connect_s": fleet.connect_s,
        "deflate_negotiated": deflate is not None,
    }


# -- Ramp: S2's shape at rising rates -------------------------------------------------------


async def run_ramp(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    """Raise every client's rate step by step until a step's typical p99 (the median of its
    per-second p99s: one GC stall does not end the ramp, a growing backlog does) passes
    50 ms, a delivery is missing or a client is dropped; the highest step that passed is the
    sustained rate."""
    step_warmup, step_duration = (1.0, 5) if opts.quick else (2.0, 10)
    srv = await servers.start(server_name)
    steps: list[dict[str, Any]] = []
    best: float | None = None
    stop_reason = "all steps passed"
    try:
        fleet = await connect_fleet([srv], 100, 10, room_prefix="ramp-", deflate=opts.deflate)
        for k, rate in enumerate(opts.ramp_rates):
            r = await run_phase(
                fleet,
                rate=rate,
                warmup=step_warmup,
                duration=step_duration,
                probes={"server": srv.sample},
                seed=seed * 100 + k,
            )
            passed = r["typical_p99"] <= 50 and r["missing"] == 0 and r["clients_closed"] == 0
            generator_bound = r["gen_cpu_pct"] >= 85 or r["lag_p99_ms"] >= 20
            r.pop("per_second")
            r["passed"] = passed
            r["generator_bound"] = generator_bound
            steps.append(r)
            if passed:
                best = rate
            if not passed or generator_bound:
                stop_reason = (
                    ("generator saturated" if generator_bound else "")
                    + (" and " if generator_bound and not passed else "")
                    + ("" if passed else _why(r))
                )
                break
            await asyncio.sleep(1.0)  # let stragglers of the step arrive before the next
        fleet.close_all()
    finally:
        await servers.stop(srv)
    return {
        "best_rate": best,
        "best_updates_per_s": None if best is None else best * 1000,
        "stop_reason": stop_reason,
        "generator_bound": bool(steps and steps[-1]["generator_bound"]),
        "steps": steps,
    }


def _why(r: dict[str, Any]) -> str:
    reasons = []
    if not r["typical_p99"] <= 50:
        reasons.append(
            f"typical p99 {r['typical_p99']:.0f} ms > 50 ms (whole step {r['latency']['p99']:.0f})"
        )
    if r["missing"]:
        reasons.append(f"{r['missing']} deliveries missing")
    if r["clients_closed"]:
        reasons.append(f"{r['clients_closed']} clients dropped {r['close_codes']}")
    return ", ".join(reasons)


# -- S3: idle synced connections -----------------------------------------------------------


async def run_s3(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    """Connect the stages' cumulative counts over 100 rooms, hold them idle, then count the
    ones still open and take the server's RSS."""
    hold = 3.0 if opts.quick else 10.0
    stages = opts.s3_stages
    per_room = max(stages) // 100
    srv = await servers.start(server_name)
    out: list[dict[str, Any]] = []
    try:
        await asyncio.sleep(1.0)
        base = srv.sample()
        fleet: Fleet | None = None
        done = 0
        for total in stages:
            lo, hi = done // 100, total // 100
            indexes = [room * per_room + j for j in range(lo, hi) for room in range(100)]
            failures_before = len(fleet.failures) if fleet else 0
            started = perf_counter()
            fleet = await connect_fleet(
                [srv],
                100,
                per_room,
                room_prefix="idle-",
                deflate=opts.deflate,
                fleet=fleet,
                indexes=indexes,
                concurrency=200,
                timeout=120.0,
            )
            connect_s = perf_counter() - started
            before_hold = srv.sample()
            await asyncio.sleep(hold)
            after = srv.sample()
            live = len(fleet.live())
            out.append(
                {
                    "connections": total,
                    "open_after_hold": live,
                    "failures": total - live,
                    "connect_failures": len(fleet.failures) - failures_before,
                    "failure_examples": fleet.failures[failures_before : failures_before + 3],
                    "connect_s": connect_s,
                    "rss_mib": after.rss / 2**20,
                    "base_rss_mib": base.rss / 2**20,
                    "kib_per_conn": (after.rss - base.rss) / 1024 / max(1, live),
                    "idle_cpu_pct": 100
                    * (after.cpu - before_hold.cpu)
                    / (after.wall - before_hold.wall),
                    "close_codes": dict(
                        Counter(str(c.close_code) for c in fleet.clients if c and not c.is_open)
                    ),
                }
            )
            done = total
        if len(out) >= 2:
            a, b = out[0], out[-1]
            added = max(1, b["open_after_hold"] - a["open_after_hold"])
            out[-1]["marginal_kib_per_conn"] = (b["rss_mib"] - a["rss_mib"]) * 1024 / added
        if fleet:
            fleet.close_all()
    finally:
        await servers.stop(srv)
    return {"stages": out, "hold_s": hold}


# -- S4: a brand-new client's sync of a big document ---------------------------------------

_S4_DOC: list[tuple[int, bytes]] | None = None
_S4_LIMITS_OFF = {
    "NEXUS_MAX_MESSAGES_PER_SECOND": "1000000",
    "NEXUS_MAX_BYTES_PER_SECOND": "1000000000",
}
_S4_CLIENT = 7


def _s4_doc(n: int) -> list[tuple[int, bytes]]:
    global _S4_DOC
    if _S4_DOC is None or len(_S4_DOC) != n:
        _S4_DOC = build_document(n, client_id=_S4_CLIENT)
    return _S4_DOC


def _everything_state_vector() -> bytes:
    """A state vector claiming all of the seed and the painter: the step 2 answering it
    carries nothing of theirs (a cheap 'have you applied everything?' round trip)."""
    entries = [(1, 1 << 31), (_S4_CLIENT, 1 << 31)]
    out = var_uint(len(entries))
    for client, clock in entries:
        out += var_uint(client) + var_uint(clock)
    return out


async def run_s4(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    doc = _s4_doc(opts.s4_updates)
    fresh = 3 if opts.quick else 10
    # The loader replays a long editing history over one connection, far faster than the
    # per-connection rate limit a real client stays under: lift it for this scenario.
    srv = await servers.start(server_name, env=_S4_LIMITS_OFF)
    room = "big-doc"
    try:
        loader = await open_client(
            srv,
            room,
            0,
            0,
            deflate=opts.deflate,
            hello=SEED_MESSAGE,
            state_vector=SEED_STATE,
            timeout=30,
        )
        encoder = FrameEncoder(loader.deflate)
        everything = _everything_state_vector()
        started = perf_counter()
        for i in range(0, len(doc), 500):
            for _, update in doc[i : i + 500]:
                loader.send_raw(encoder.encode(sync_message(2, update)))
            await asyncio.wait_for(loader.roundtrip(everything), 120)
        ingest_s = perf_counter() - started
        times, sizes = [], []
        content_ok = None
        for k in range(fresh):
            t0 = perf_counter()
            client = await open_client(
                srv,
                room,
                1 + k,
                0,
                deflate=opts.deflate,
                hello=b"",
                state_vector=b"\x00",
                timeout=60,
            )
            times.append((client.synced.result() - t0) * 1e3)
            sizes.append(client.step2_bytes)
            client.close()
            await asyncio.sleep(0.2)
        content_ok = await _check_content(srv, room, opts, expected_strokes=_strokes(len(doc)))
        result: dict[str, Any] = {
            "updates": len(doc),
            "ingest_s": ingest_s,
            "ingest_updates_per_s": len(doc) / ingest_s,
            "sync_ms": times,
            "sync_ms_median": median(times),
            "step2_bytes": median(sizes),
            "content_ok": content_ok,
            "server_rss_mib": srv.sample().rss / 2**20,
        }
        loader.close()
        if server_name == "ours":  # cold: the room loads from the store (snapshot + log)
            await asyncio.sleep(0.3)
            srv = await servers.restart_ours(srv)
            t0 = perf_counter()
            client = await open_client(
                srv,
                room,
                99,
                0,
                deflate=opts.deflate,
                hello=b"",
                state_vector=b"\x00",
                timeout=120,
            )
            result["cold_sync_ms"] = (client.synced.result() - t0) * 1e3
            client.close()
        return result
    finally:
        await servers.stop(srv)


def _strokes(n_updates: int) -> int:
    from bench.load.updates import POINTS_PER_STROKE

    return -(-n_updates // (POINTS_PER_STROKE + 1))


async def _check_content(
    srv: servers.Server, room: str, opts: Options, expected_strokes: int
) -> bool:
    """A fresh client's step 2 holds the whole document (every stroke)."""
    client = await open_client(
        srv, room, 500, 0, deflate=opts.deflate, hello=b"", state_vector=b"\x00", timeout=60
    )
    try:
        client.keep_step2 = True  # ask for everything once more, keeping the answer
        await asyncio.wait_for(client.roundtrip(b"\x00"), 60)
        payload = client.step2_payload
        pos = 2
        while payload[pos] & 0x80:
            pos += 1
        doc: Doc[Any] = Doc()
        doc.apply_update(payload[pos + 1 :])
        strokes = doc.get("layers", type=Array)[0]["strokes"]
        return len(strokes) == expected_strokes
    finally:
        client.close()


# -- S5: two instances of ours sharing Redis -----------------------------------------------


def redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except Exception:
        return False


def _redis_cleanup(url: str, namespace: str) -> None:
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5)
        keys = list(client.scan_iter(f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)


async def run_s5(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    """S2's load on one Redis-backed instance, then split over two (rooms' clients 0-4 on
    instance A, 5-9 on B), both on the server core; deliveries split same/cross instance."""
    duration = opts.duration
    out: dict[str, Any] = {}
    for config in ("one", "two"):
        namespace = f"nexus-bench-{uuid.uuid4().hex[:10]}"
        env = {"REDIS_URL": opts.redis_url, "NEXUS_REDIS_NAMESPACE": namespace}
        count = 1 if config == "one" else 2
        started: list[servers.Server] = []
        try:
            for k in range(count):
                started.append(await servers.start_ours(env=env, tag=f"ours-{'ab'[k]}"))
            assign = (lambda room, j: 0) if count == 1 else (lambda room, j: 0 if j < 5 else 1)
            fleet = await connect_fleet(
                started, 100, 10, room_prefix="s5-", deflate=opts.deflate, assign=assign
            )
            result = await run_phase(
                fleet,
                rate=opts.s5_rate,
                warmup=opts.warmup,
                duration=duration,
                probes={s.name: s.sample for s in started},
                seed=seed,
                split_by_tag=count == 2,
            )
            result.update(_connect_info(fleet))
            fleet.close_all()
            out[config] = result
        finally:
            for s in started:
                await servers.stop(s)
            _redis_cleanup(opts.redis_url, namespace)
    return out


# -- profile: py-spy on our server during S1 -----------------------------------------------


async def run_profile(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    """S1's (or S2's, ``--profile-shape``) load on ours while py-spy samples it (100 Hz,
    non-blocking, on the generator's core) for the scenario's window, or 60 s with ``--long``;
    these numbers are not tabled as S1/S2."""
    srv = await servers.start("ours")
    opts.profile_dir.mkdir(parents=True, exist_ok=True)
    duration = opts.long_duration if opts.long else opts.duration
    mode = "deflate" if opts.deflate else "plain"
    shape = opts.profile_shape.upper()
    rooms, per_room, rate = (100, 10, 1.0) if shape == "S2" else (1, 50, 5.0)
    raw = opts.profile_dir / f"ours-{shape.lower()}-{mode}-{duration}s.txt"
    try:
        fleet = await connect_fleet(
            [srv], rooms, per_room, room_prefix="prof-", deflate=opts.deflate
        )
        spy = [
            str(servers.VENV_BIN / "py-spy"),
            "record",
            "--pid",
            str(srv.pid),
            "--rate",
            "100",
            "--duration",
            str(duration),
            "--nonblocking",
            "--threads",
        ]
        proc_raw = _start_quiet(
            [*spy, "--format", "raw", "--output", str(raw)], raw.with_suffix(".log")
        )
        result = await run_phase(
            fleet,
            rate=rate,
            warmup=opts.warmup,
            duration=duration,
            probes={"server": srv.sample},
            seed=seed,
        )
        await asyncio.to_thread(proc_raw.wait, 60)
        fleet.close_all()
        result.pop("per_second")
        result["profile_raw"] = str(raw)
        result["top"] = top_costs(raw)
        return result
    finally:
        await servers.stop(srv)


def _start_quiet(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)


def top_costs(raw: Path, n: int = 15) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's collapsed stacks: share of samples by function, self and inclusive."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    try:
        text = raw.read_text(errors="replace")
    except OSError:
        return {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += c
        self_counts[_short(frames[-1])] += c
        for f in set(map(_short, frames)):
            incl_counts[f] += c
    if not total:
        return {}
    return {
        "samples": [("total", float(total))],
        "self": [(f, 100 * c / total) for f, c in self_counts.most_common(n)],
        "inclusive": [(f, 100 * c / total) for f, c in incl_counts.most_common(n + 10)],
    }


def _short(frame: str) -> str:
    # "send (starlette/websockets.py:110)" -> "send (starlette/websockets.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def environment() -> dict[str, Any]:
    import platform

    import pycrdt

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    git = ["git", "-C", str(servers.ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "collab", "persistence"],
        capture_output=True,
        text=True,
    )
    return {
        "commit": commit.stdout.strip() + (" + uncommitted server changes" if dirty.stdout else ""),
        "python": platform.python_version(),
        "pycrdt": getattr(pycrdt, "__version__", "?"),
        "node": node,
        "cpus": os.cpu_count(),
        "pinned": servers.pinning_available(),
        "machine": platform.machine(),
        "kernel": platform.release(),
    }
