"""What a run found, as a table for people and JSON for machines."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.chaos.config import FaultKind
from bench.chaos.faults import FaultEvent
from bench.chaos.ledger import Phase


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class InstanceFigures:
    name: str
    starts: int
    rss_start: int | None
    rss_end: int | None
    rss_peak: int
    cpu_seconds: float | None  # of its last process
    error_lines: int


@dataclass
class ChaosReport:
    duration: float
    wall_seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds: setup, load, checks
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    faults: list[FaultEvent] = field(default_factory=list)
    edits_sent: int = 0
    edits_confirmed: int = 0
    lost: list[str] = field(default_factory=list)  # confirmed, absent from Postgres
    missing: list[str] = field(default_factory=list)  # sent, absent from Postgres
    fanout_ms: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    final_convergence: float | None = None
    replica_problems: list[str] = field(default_factory=list)
    jobs_accepted: int = 0
    jobs_refused: dict[str, int] = field(default_factory=dict)
    jobs_by_state: dict[str, int] = field(default_factory=dict)
    job_problems: list[str] = field(default_factory=list)
    unknown_job_layers: list[str] = field(default_factory=list)
    leaks: dict[str, dict[str, int]] = field(default_factory=dict)
    instances: list[InstanceFigures] = field(default_factory=list)
    forced_stops: list[str] = field(default_factory=list)  # SIGTERM was not enough
    harness_cpu_seconds: float = 0.0  # the painters, the injector and the checks
    errors: list[str] = field(default_factory=list)  # the harness's own failures
    work_dir: str | None = None  # kept logs and data (a failed run, or asked for)

    def set_latencies(self, latencies: dict[Phase, list[float]]) -> None:
        for phase, values in latencies.items():
            self.fanout_ms[str(phase)] = {
                "n": len(values),
                "p50": _ms(percentile(values, 50)),
                "p99": _ms(percentile(values, 99)),
                "max": _ms(max(values) if values else None),
            }

    @property
    def violations(self) -> list[str]:
        """Why the run failed; empty when nothing was lost, everything converged and every
        job ended once."""
        found: list[str] = list(self.errors)
        if self.lost:
            found.append(f"{len(self.lost)} confirmed edits lost: {self.lost[:10]}")
        if self.missing:
            found.append(f"{len(self.missing)} sent edits missing in Postgres: {self.missing[:10]}")
        if self.final_convergence is None:
            found.append("the painters did not converge after the faults stopped")
        found += self.replica_problems + self.job_problems
        if self.jobs_accepted == 0:
            found.append("no AI job was accepted during the run")
        if self.leaks:
            found.append(f"rooms or connections left after the clients left: {self.leaks}")
        return found

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = [{**asdict(event), "kind": str(event.kind)} for event in self.faults]
        data["violations"] = self.violations
        return data

    def table(self) -> str:
        lines = [
            f"chaos soak: {self.duration:g} s of faults, {self.wall_seconds:.0f} s wall, "
            f"load average at the end {self.load_average[0]:.1f}/{self.load_average[1]:.1f}/"
            f"{self.load_average[2]:.1f}; "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.stages.items()),
            "",
            "| fault | injected | convergence p50 | convergence max | not converged |",
            "|---|---|---|---|---|",
        ]
        for kind in FaultKind:
            events = [e for e in self.faults if e.kind is kind]
            times = [e.converged_after for e in events if e.converged_after is not None]
            lines.append(
                f"| {kind} | {len(events)} | {_s(percentile(times, 50))} | "
                f"{_s(max(times) if times else None)} | {len(events) - len(times)} |"
            )
        lines += [
            "",
            "| edits sent | confirmed | lost (confirmed, not in Postgres) "
            "| missing (sent, not in Postgres) | final convergence |",
            "|---|---|---|---|---|",
            f"| {self.edits_sent} | {self.edits_confirmed} | {len(self.lost)} | "
            f"{len(self.missing)} | {_s(self.final_convergence)} |",
            "",
            "| fan-out (ms) | n | p50 | p99 | max |",
            "|---|---|---|---|---|",
        ]
        for phase, figures in self.fanout_ms.items():
            lines.append(
                f"| {phase} | {figures['n']} | {figures['p50']} | {figures['p99']} | "
                f"{figures['max']} |"
            )
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.jobs_by_state.items())) or "none"
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.jobs_refused.items())) or "none"
        lines += [
            "",
            f"AI jobs: {self.jobs_accepted} accepted ({states}); refused at submission: "
            f"{refused}; layers of unknown jobs: {len(self.unknown_job_layers)}",
            "",
            "| instance | starts | RSS start (MiB) | RSS end (MiB) | RSS peak (MiB) "
            "| CPU s (last process) | error log lines |",
            "|---|---|---|---|---|---|---|",
        ]
        for i in self.instances:
            lines.append(
                f"| {i.name} | {i.starts} | {_mib(i.rss_start)} | {_mib(i.rss_end)} | "
                f"{_mib(i.rss_peak)} | {_cpu(i.cpu_seconds)} | {i.error_lines} |"
            )
        lines.append(f"| harness | | | | | {self.harness_cpu_seconds:.0f} | |")
        violations = self.violations
        if self.forced_stops:
            lines += ["", f"did not stop on SIGTERM within 15 s: {', '.join(self.forced_stops)}"]
        if self.work_dir is not None:
            lines += ["", f"logs and data: {self.work_dir}"]
        lines += ["", "PASS" if not violations else "FAIL:"]
        lines += [f"- {v}" for v in violations]
        return "\n".join(lines)


def count_states(states: list[str]) -> dict[str, int]:
    return dict(Counter(states))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def _cpu(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f}"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"
