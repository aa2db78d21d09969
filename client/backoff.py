"""Exponential backoff with full jitter for reconnects."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before reconnect attempt n: uniform in [0, min(cap, base * 2**n)] ("full jitter"),
    never below ``floor`` so a flapping server is not hammered."""

    base: float = 0.1
    cap: float = 10.0
    floor: float = 0.05
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return max(self.floor, self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.attempt = 0
