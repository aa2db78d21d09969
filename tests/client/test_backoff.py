from __future__ import annotations

import random

from client import Backoff


def test_delays_grow_exponentially_with_full_jitter_and_a_cap() -> None:
    b = Backoff(base=0.1, cap=2.0, floor=0.01, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(12)]
    ceilings = [min(2.0, 0.1 * 2**i) for i in range(12)]
    assert all(0.01 <= d <= max(c, 0.01) for d, c in zip(delays, ceilings, strict=True))
    assert max(delays) <= 2.0
    # Jitter: two clients with different seeds do not retry in lockstep.
    other = Backoff(base=0.1, cap=2.0, rng=random.Random(2))
    assert [other.next_delay() for _ in range(12)] != delays


def test_reset_starts_over() -> None:
    b = Backoff(base=1.0, cap=100.0, floor=0.0, rng=random.Random(3))
    for _ in range(6):
        b.next_delay()
    b.reset()
    assert b.attempt == 0
    assert b.next_delay() <= 1.0
