from __future__ import annotations


class ManualClock:
    """A monotonic clock that moves only when a test says so: pass it as a component's
    ``clock`` and ``advance`` it past a lease instead of sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a monotonic clock moves forward, got {seconds} s")
        self.now += seconds
