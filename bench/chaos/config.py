"""The shape of one chaos run: how long, how many of each part, which faults and how often."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


class FaultKind(enum.StrEnum):
    KILL_INSTANCE = "kill_instance"  # SIGKILL, then start it again on the same port
    RESTART_REDIS = "restart_redis"  # the private redis-server: SIGTERM, start again
    CUT_POSTGRES = "cut_postgres"  # every instance's Postgres path cut through the proxy
    PAUSE_INSTANCE = "pause_instance"  # SIGSTOP, then SIGCONT
    DROP_CLIENTS = "drop_clients"  # every client connection of one instance cut mid-stream


FAULT_CYCLE: tuple[FaultKind, ...] = tuple(FaultKind)


@dataclass(frozen=True)
class ChaosConfig:
    """Every knob of a run. ``duration`` is the loaded window in which faults are injected;
    start-up and the final checks come on top of it."""

    duration: float = 600.0
    instances: int = 3
    clients: int = 60
    documents: int = 12
    workers: int = 2  # `nexus-canvas worker` processes
    edits_per_second: float = 1.0  # per client, jittered
    presence_every: float = 3.0  # seconds between a client's cursor moves
    job_every: float = 4.0  # seconds between AI job submissions
    canvas_side: int = 192  # small: the jobs' fallbacks run on the CPU
    warmup: float = 8.0  # steady load before the first fault
    quiet: float = 10.0  # steady load between faults (and after the last one)
    after_window: float = 10.0  # an edit sent this long after a fault ended is "after fault"
    kill_down: float = 2.0  # seconds a killed instance stays down
    postgres_cut: float = 20.0
    pause: float = 8.0  # seconds an instance stays SIGSTOPped
    drop_down: float = 1.0  # seconds the dropped clients' path stays cut
    redis_down: float = 1.0  # seconds between Redis stopping and starting again
    converge_timeout: float = 60.0  # per fault, and for the final convergence
    jobs_timeout: float = 90.0  # for every job to end after the load stopped
    idle_seconds: float = 3.0  # NEXUS_ROOM_IDLE_SECONDS of the instances
    database_url: str = DEFAULT_DATABASE_URL
    redis_server: str = "redis-server"
    seed: int = 1
    work_dir: Path | None = None  # logs and data; None: a temporary directory, removed after
    keep_work_dir: bool = False

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError(f"duration must be > 0 seconds, got {self.duration}")
        if self.instances < 2:
            raise ValueError(
                f"instances must be >= 2 (faults need a survivor), got {self.instances}"
            )
        if self.clients < self.documents:
            raise ValueError(
                f"clients ({self.clients}) must be >= documents ({self.documents}): every "
                "document needs painters"
            )
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    @classmethod
    def short(cls, **overrides: object) -> ChaosConfig:
        """About two minutes of wall time: every fault kind once, shorter gaps."""
        base = cls(duration=30.0, warmup=5.0, quiet=5.0, pause=6.0, after_window=5.0)
        return replace(base, **overrides)  # type: ignore[arg-type]
