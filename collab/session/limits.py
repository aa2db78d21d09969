"""Abuse limits: token buckets for per-connection message and byte rates, and a per-address
guard on concurrent connections and connection attempts."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``."""

    __slots__ = ("_clock", "_tokens", "_updated", "burst", "rate")

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def take(self, amount: float = 1.0) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < amount:
            return False
        self._tokens -= amount
        return True


class AddressGuard:
    """Caps concurrent connections and the rate of new connections per client address."""

    def __init__(
        self,
        *,
        max_concurrent: int,
        attempts_per_second: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_concurrent = max_concurrent
        self._attempts_per_second = attempts_per_second
        self._burst = burst
        self._clock = clock
        self._open: dict[str, int] = {}
        self._attempts: dict[str, TokenBucket] = {}
        self.refused = 0

    def admit(self, address: str) -> str | None:
        """Count a new connection from ``address``; the reason it is refused, or None."""
        bucket = self._attempts.get(address)
        if bucket is None:
            if len(self._attempts) > 10_000:  # forget idle addresses; keeps memory bounded
                self._attempts = {a: b for a, b in self._attempts.items() if a in self._open}
            bucket = self._attempts[address] = TokenBucket(
                self._attempts_per_second, self._burst, clock=self._clock
            )
        if not bucket.take():
            self.refused += 1
            return (
                f"too many connection attempts from {address} "
                f"(limit {self._attempts_per_second:g}/s); retry later"
            )
        if self._open.get(address, 0) >= self.max_concurrent:
            self.refused += 1
            return f"too many open connections from {address} (limit {self.max_concurrent})"
        self._open[address] = self._open.get(address, 0) + 1
        return None

    def release(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)


class PerKeyRate:
    """One token bucket per key (user id): ``per_minute`` actions, burst of the same size."""

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets.clear()  # forget everyone rather than grow without bound
            rate = self.per_minute / 60.0
            bucket = self._buckets[key] = TokenBucket(rate, self.per_minute, clock=self._clock)
        return bucket.take()


def _var_uint(buf: bytes, pos: int) -> tuple[int, int]:
    """A lib0 varUint at ``pos``: (value, position after it); ValueError if cut or > 64 bits."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varUint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def implausible_sync(frame: bytes) -> str | None:
    """Why a y-websocket sync message cannot be what it claims, found from its first counts
    alone (None: no reason seen); anything else is left to the decoder.

    Yrs sizes its tables from the counts at the head of a state vector or an update before it
    reads what they count: 30 random bytes can make it allocate hundreds of MiB and spend half
    a second (measured on pycrdt 0.14). A count larger than the bytes that follow it cannot be
    honest (every entry takes at least one byte), so such a message is refused unread."""
    if len(frame) < 3 or frame[0] != 0 or frame[1] > 2:
        return None
    try:
        size, pos = _var_uint(frame, 2)
    except ValueError:
        return None  # the decoder reports a broken frame itself
    payload = frame[pos : pos + size]
    if len(payload) < size:
        return None
    what = "state vector" if frame[1] == 0 else "update"
    try:
        count, pos = _var_uint(payload, 0)
        if count > len(payload) - pos:
            return f"{what} cannot be read: {count} entries declared in {len(payload) - pos} bytes"
        if frame[1] != 0 and count:  # an update: its first group's struct count
            structs, pos = _var_uint(payload, pos)
            if structs > len(payload) - pos:
                return (
                    f"{what} cannot be read: {structs} structs declared in "
                    f"{len(payload) - pos} bytes"
                )
    except ValueError as exc:
        return f"{what} cannot be read: {exc}"
    return None
