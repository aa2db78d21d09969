"""STARVE: honest clients paint while a fuzzer, memory hogs and a connection storm hit the server.

Issue 16 item 7. ``HONEST_ROOMS`` x ``HONEST_PER_ROOM`` clients paint at S1's rate (5 updates/s
each) and their fan-out latency (sender -> server -> the room's other clients) is measured for
``DURATION`` seconds, during which an attacker process (``bench/load/attack.py``, on the load
core) sends ~8000 malformed frames of every kind, holds hanging and slow-loris frames and
never-reading clients, and opens a storm of 600 connections, all from 127.0.0.1 like the
honest clients. Recorded: the honest p50/p99/max, the server's RSS at start, its peak (the
kernel's high-water mark, reset at the start) and at the end, and the close codes (the
server's own count on ``/metrics`` for ours, what the attacker's connections saw for both).

The per-address limits are lifted as in every scenario (the honest clients share the
attacker's address; with the defaults most of the attack would be refused at the upgrade and
never reach the parts of the server this scenario is about).

    python -m bench.load --scenarios STARVE --runs 3

``python -m bench.load.starve attack|honest ...`` runs one side alone (the attacker process,
and the honest clients of tests/collab/test_starvation.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.load import servers
from bench.load.attack import Attack
from bench.load.fleet import connect_fleet, run_phase
from bench.load.measure import median
from bench.load.scenarios import Options, _connect_info

HONEST_ROOMS = 2
HONEST_PER_ROOM = 10
RATE = 5.0
WARMUP = 2.0
DURATION = 30
QUICK_DURATION = 10
FRAMES = 8000
STORM = 600

_CLOSED = re.compile(r'^nexus_connections_closed_total\{code="([^"]+)"\} (\S+)$', re.M)
_BUDGET_PEAK = re.compile(r"^nexus_frame_budget_peak_bytes (\S+)$", re.M)
_GC_BUCKET = re.compile(
    r'^nexus_gc_pause_seconds_bucket\{generation="(\d)",le="([^"]+)"\} (\S+)$', re.M
)
_GC_SUM = re.compile(r'^nexus_gc_pause_seconds_sum\{generation="(\d)"\} (\S+)$', re.M)
_LONG_PAUSE = "0.02"  # a collection over 20 ms is a missed p99 target by itself


def rss_bytes(pid: int) -> int:
    return servers.sample(pid).rss


def peak_rss_bytes(pid: int) -> int:
    """The process's RSS high-water mark (VmHWM) since it started or was last reset."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmHWM for {pid}")


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``clear_refs`` 5; our own child, or root)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def server_counts(http_url: str) -> dict[str, Any]:
    """Closes by code and the frame budget's high-water mark, from ours' ``/metrics``."""
    with urllib.request.urlopen(f"{http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    closes = {code: int(float(v)) for code, v in _CLOSED.findall(text) if float(v)}
    peak = _BUDGET_PEAK.search(text)
    return {
        "closes": closes,
        "budget_peak_bytes": int(float(peak.group(1))) if peak else None,
        "gc": gc_pauses(text),
    }


def gc_pauses(text: str) -> dict[str, dict[str, float]]:
    """Per generation: collections, those over 20 ms, and their total seconds (the server's
    ``nexus_gc_pause_seconds`` since it started)."""
    found: dict[str, dict[str, float]] = {}
    for generation, le, value in _GC_BUCKET.findall(text):
        entry = found.setdefault(generation, {"count": 0.0, "long": 0.0, "seconds": 0.0})
        if le == "+Inf":
            entry["count"] = float(value)
        elif le == _LONG_PAUSE:
            entry["long"] = -float(value)  # made "over 20 ms" once the count is known
    for entry in found.values():
        entry["long"] += entry["count"]
    for generation, value in _GC_SUM.findall(text):
        if generation in found:
            found[generation]["seconds"] = float(value)
    return found


def _gc(r: dict[str, Any]) -> str:
    pauses = (r.get("server") or {}).get("gc") or {}
    return (
        " ".join(
            f"g{g}: {p['count']:.0f}/{p['long']:.0f}/{p['seconds'] * 1000:.0f}"
            for g, p in sorted(pauses.items())
        )
        or "-"
    )


async def start_attacker(port: int, prefix: str, duration: float, **kw: Any) -> Any:
    """The attacker in its own process, pinned to the load core; its JSON on stdout."""
    argv = [
        *(["taskset", "-c", str(servers.LOAD_CORE)] if servers.pinning_available() else []),
        sys.executable, "-m", "bench.load.starve", "attack", "--port", str(port),
        "--prefix", prefix, "--duration", str(duration),
        *(f"--{k.replace('_', '-')}={v}" for k, v in kw.items()),
    ]  # fmt: skip
    return await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, cwd=servers.ROOT
    )


async def run_starve(server_name: str, opts: Options, *, seed: int) -> dict[str, Any]:
    duration = QUICK_DURATION if opts.quick else DURATION
    frames = FRAMES * duration // DURATION
    srv = await servers.start(server_name)
    try:
        fleet = await connect_fleet(
            [srv], HONEST_ROOMS, HONEST_PER_ROOM, room_prefix="starve-honest-",
            deflate=opts.deflate,
        )  # fmt: skip
        state: dict[str, Any] = {}

        def start(window_start: float, recorder: object) -> None:
            async def launch() -> Any:
                await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
                state["rss_start"] = rss_bytes(srv.pid)
                state["hwm_reset"] = reset_peak_rss(srv.pid)
                return await start_attacker(
                    srv.port, srv.prefix, duration, frames=frames, seed=seed
                )

            state["attacker"] = asyncio.create_task(launch())

        result = await run_phase(
            fleet,
            rate=RATE,
            warmup=WARMUP,
            duration=duration,
            probes={"server": srv.sample},
            seed=seed,
            on_start=start,
        )
        proc = await state["attacker"]
        out, _ = await proc.communicate()
        result["attack"] = (
            json.loads(out) if out else {"error": f"attacker exited {proc.returncode}"}
        )
        result["rss_start_mib"] = state["rss_start"] / 2**20
        result["hwm_reset"] = state["hwm_reset"]
        result["crashed"] = not srv.alive()
        if result["crashed"]:  # the peak as last sampled (once a second); no end
            result["rss_peak_mib"] = result["server_rss_mib"]["server"]
            result["rss_end_mib"] = float("nan")
            result["crash_log"] = srv.log_tail(10)
            fleet.close_all()
            return result
        result["rss_peak_mib"] = peak_rss_bytes(srv.pid) / 2**20
        fleet.close_all()
        await asyncio.sleep(2.0)
        result["rss_end_mib"] = rss_bytes(srv.pid) / 2**20
        if server_name == "ours":
            result["server"] = await asyncio.to_thread(
                server_counts, f"http://127.0.0.1:{srv.port}"
            )
        result.update(_connect_info(fleet))
        return result
    finally:
        await servers.stop(srv)


# -- report -----------------------------------------------------------------------------------


def _closes(r: dict[str, Any]) -> str:
    codes = r.get("server", {}).get("closes") or {
        k: v for k, v in r.get("attack", {}).get("closes", {}).items()
    }
    return ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())) or "-"


TARGET_P99_MS = 20.0  # issue 16, item 7
TARGET_GROWTH_MIB = 64.0


def render(runs_by_server: dict[str, list[dict[str, Any]]]) -> str:
    """A table per run and the medians side by side, with ours/reference ratios."""
    lines = [
        "## STARVE: 2 rooms x 10 honest clients x 5/s while a fuzzer (~8000 malformed frames), "
        "memory hogs and a 600-connection storm hit the server from the same address",
        "",
        "| server | run | honest p50 ms | p99 ms | max ms | delivered/expected | RSS start / "
        "peak / end MiB | peak growth MiB | budget peak MiB | attack frames | closes by code | "
        "GC: collections / over 20 ms / total ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    medians: dict[str, dict[str, float]] = {}
    for name, runs in runs_by_server.items():
        for k, r in enumerate(runs, 1):
            lat = r["latency"]
            budget = (r.get("server") or {}).get("budget_peak_bytes")
            lines.append(
                f"| {name} | {k} | {lat['p50']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} | "
                f"{r['delivered']}/{r['expected']} | {r['rss_start_mib']:.0f} / "
                f"{r['rss_peak_mib']:.0f} / {r['rss_end_mib']:.0f} | "
                f"{r['rss_peak_mib'] - r['rss_start_mib']:.0f} | "
                f"{'-' if budget is None else f'{budget / 2**20:.1f}'} | "
                f"{r['attack'].get('frames', '-')} | "
                f"{'CRASHED; ' if r.get('crashed') else ''}{_closes(r)} | {_gc(r)} |"
            )
        medians[name] = {
            "p99": median([r["latency"]["p99"] for r in runs]),
            "max": median([r["latency"]["max"] for r in runs]),
            "growth": median([r["rss_peak_mib"] - r["rss_start_mib"] for r in runs]),
        }
    if medians:
        lines += ["", "| median over runs | " + " | ".join(medians) + " | ours / reference |"]
        lines.append("|---|" + "---|" * (len(medians) + 1))
        for key, label in (("p99", "honest p99 ms"), ("max", "honest max ms"),
                           ("growth", "peak RSS growth MiB")):  # fmt: skip
            values = [medians[n][key] for n in medians]
            ours, ref = medians.get("ours", {}).get(key), medians.get("reference", {}).get(key)
            ratio = f"{ours / ref:.2f}" if ours is not None and ref else "-"
            lines.append(f"| {label} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {ratio} |")
    if "ours" in medians:
        measured = medians["ours"]
        lines += ["", "| issue 16 target (ours, median) | measured | verdict |", "|---|---|---|"]
        targets = (
            ("p99", "honest p99 <= 20 ms", TARGET_P99_MS),
            ("growth", "peak RSS growth <= 64 MiB", TARGET_GROWTH_MIB),
        )
        for key, label, bound in targets:
            lines.append(
                f"| {label} | {measured[key]:.1f} | "
                f"{'PASS' if measured[key] <= bound else 'FAIL'} |"
            )
    return "\n".join(lines)


# -- the two sides alone ----------------------------------------------------------------------


async def honest_only(port: int, prefix: str, duration: int, seed: int) -> dict[str, Any]:
    """The honest clients alone against a running server: their latency summary."""
    srv = servers.Server("external", port, None, prefix)  # type: ignore[arg-type]
    fleet = await connect_fleet(
        [srv], HONEST_ROOMS, HONEST_PER_ROOM, room_prefix="starve-honest-", deflate=False
    )
    try:
        r = await run_phase(
            fleet, rate=RATE, warmup=WARMUP, duration=duration, probes={}, seed=seed
        )
    finally:
        fleet.close_all()
    lat = r["latency"]
    return {
        "latency": lat,
        "per_second_p99": [row["p99"] for row in r["per_second"]],
        "delivered": r["delivered"],
        "expected": r["expected"],
        "clients_closed": r["clients_closed"],
        "connect_failures": len(fleet.failures),
        "lag_max_ms": r["lag_max_ms"],
        "wait_pct": r["wait_pct"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load.starve")
    p.add_argument("side", choices=("attack", "honest"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--prefix", default="/ws/")
    p.add_argument("--duration", type=float, default=DURATION)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--frames", type=int, default=FRAMES)
    p.add_argument("--storm", type=int, default=STORM)
    args = p.parse_args(argv)
    import uvloop

    if args.side == "attack":
        attack = Attack(
            args.host, args.port, args.prefix, duration=args.duration, frames=args.frames,
            storm=args.storm, seed=args.seed,
        )  # fmt: skip
        result = uvloop.run(attack.run())
    else:
        result = uvloop.run(honest_only(args.port, args.prefix, int(args.duration), args.seed))
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
