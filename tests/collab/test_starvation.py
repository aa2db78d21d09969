"""Issue 16 item 7, the short run: a fuzzer, memory hogs and a connection storm from the honest
clients' own address do not starve them.

A real server process (so its memory is its own) faces ``bench/load/attack.py`` run from this
process for ``SECONDS`` s: ~270 malformed frames a second of every kind, frames left hanging
just under the size limit, slow-loris frames and handshakes, clients that ask for a 1 MiB
document and never read, and a storm of 600 connections. Meanwhile 20 honest clients paint
in their own process (``python -m bench.load.starve honest``), so the pytest process's own
work never delays their measurement. The test fails if their round-trip p99 passes P99_MS,
the server's peak RSS grows by more than RSS_GROWTH_MIB, or the frame budget held more than
its limit.

The machine is shared, and other processes on it delay the server or the honest clients
(their CPU wait, from ``/proc/<pid>/schedstat``, is in the failure message): the latency and
memory bounds must hold in one of up to ``ATTEMPTS`` runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from bench.load.attack import Attack
from bench.load.measure import run_delay
from bench.load.starve import peak_rss_bytes, reset_peak_rss, rss_bytes
from tests.support.servers import ServerProcess

SECONDS = 12
FRAMES = 8000 * SECONDS // 30  # the benchmark's rate: ~8000 frames in 30 s
STORM = 600
# Issue 16's bounds: honest p99 <= 20 ms and peak RSS growth <= 64 MiB (the benchmark,
# `python -m bench.load --scenarios STARVE`, checks the same on 30 s runs). Here the attacker,
# the honest clients and the server share the suite's two cores, and anything else running on
# the machine delays them: measured on a quiet machine, p99 5.7-9.5 ms and growth 54-60 MiB;
# with other benchmarks running, p99 54-126 ms. So the bounds must hold in one run of up to
# ATTEMPTS; the correctness checks (served, delivered, budget held) in every run.
P99_MS = 20.0
RSS_GROWTH_MIB = 64.0
ATTEMPTS = 3
BUDGET = 16 * 1024 * 1024  # the default NEXUS_FRAME_BUDGET_BYTES
ROOT = Path(__file__).resolve().parents[2]
_BUDGET_PEAK = re.compile(r"^nexus_frame_budget_peak_bytes (\S+)$", re.M)
_SHED = re.compile(r'^nexus_frame_budget_shed_total\{kind="[^"]+"\} (\S+)$', re.M)


async def _one_run(tmp_path: Path, attempt: int) -> dict[str, Any]:
    server = ServerProcess(
        tmp_path / f"data-{attempt}",
        # Everyone shares 127.0.0.1 here: the per-address limits would refuse the attack at
        # the door and leave the rest of the server untested (as in bench/load).
        NEXUS_MAX_CONNECTIONS_PER_IP="1000000",
        NEXUS_CONNECTION_ATTEMPTS_PER_SECOND="1000000",
        NEXUS_LOG_LEVEL="WARNING",
    )
    server.start()
    assert server.proc is not None
    pid = server.proc.pid
    try:
        honest = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.load.starve", "honest", "--port", str(server.port),
            "--duration", str(SECONDS), stdout=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        await asyncio.sleep(3.0)  # its clients connect and sync, its warm-up begins
        start_rss = rss_bytes(pid)
        assert reset_peak_rss(pid), "cannot reset the server's peak RSS (clear_refs)"
        waited = run_delay(pid), run_delay(honest.pid)
        attack = await Attack(
            "127.0.0.1", server.port, duration=SECONDS, frames=FRAMES, storm=STORM
        ).run()
        out, _ = await honest.communicate()
        waited = run_delay(pid) - waited[0], run_delay(honest.pid) - waited[1]
        metrics = server.metrics()
        return {
            "honest": json.loads(out),
            "attack": attack,
            "growth_mib": (peak_rss_bytes(pid) - start_rss) / 2**20,
            "budget_peak": float(_BUDGET_PEAK.findall(metrics)[0]),
            "shed": sum(float(v) for v in _SHED.findall(metrics)),
            "wait": max(waited) / SECONDS,
            "alive": server.proc.poll() is None,
        }
    finally:
        server.stop()


async def test_honest_clients_keep_pace_under_attack(tmp_path: Path) -> None:
    if os.uname().sysname != "Linux":
        raise AssertionError("this test reads the server's memory from Linux's /proc")
    summaries = []
    for attempt in range(ATTEMPTS):
        r = await _one_run(tmp_path, attempt)
        honest, attack = r["honest"], r["attack"]
        summary = (
            f"run {attempt + 1}: honest {honest['latency']}, per-second p99 "
            f"{honest['per_second_p99']}, RSS growth {r['growth_mib']:.0f} MiB, budget peak "
            f"{r['budget_peak']:.0f}, shed {r['shed']:.0f}, CPU wait {100 * r['wait']:.0f} %, "
            f"attack {attack}"
        )
        summaries.append(summary)
        # Every run: the server survived, the attack happened as described, the honest
        # clients were all served, and the frame budget held.
        assert r["alive"], summary
        assert attack["frames"] >= FRAMES * 0.8, summary
        assert attack["storm_synced"] >= STORM * 0.9, summary
        assert honest["connect_failures"] == 0 and honest["clients_closed"] == 0, summary
        assert honest["delivered"] == honest["expected"], summary
        assert r["shed"] > 0, summary  # the hogs went past the budget and were cut
        assert r["budget_peak"] <= BUDGET, summary
        # The bounds of issue 16: met by one run of up to ATTEMPTS (see above).
        if honest["latency"]["p99"] <= P99_MS and r["growth_mib"] <= RSS_GROWTH_MIB:
            return
    raise AssertionError(
        f"no run kept the honest p99 <= {P99_MS} ms and the RSS growth <= {RSS_GROWTH_MIB} "
        "MiB:\n" + "\n".join(summaries)
    )
