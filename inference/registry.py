"""Model registry and device-memory manager.

Models load once and stay resident. Each resident model has a footprint: measured as the
growth of ``torch.cuda.memory_allocated`` across its load when a memory probe is given (CUDA),
else the loader's estimate (parameters x dtype size). Before a load (or a move back to the
device) would push the total over the budget, least-recently-used models that no job is using
are evicted: moved to host memory (``evict_to="cpu"``, when the model can move) or dropped.

Thread safety: the state lives under one short lock, so a job that finds its model resident
never waits for another model's load; loads, restores and evictions are serialized by a
second lock, which also keeps memory measurements from overlapping. A model is pinned while a
``use()`` block holds it, and pinned models are never evicted.

The registry does not import torch: device memory is read through the injected probe and
freed through the ``after_evict`` hook, so it is tested with fake models of declared sizes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from inference.exceptions import AIConfigError

log = logging.getLogger(__name__)

M = TypeVar("M")


@dataclass
class Loaded(Generic[M]):
    """What a loader returns: the model object plus what the registry needs to manage it."""

    model: M
    nbytes: int  # estimated footprint on its device (parameters x dtype size)
    device: str  # where the model runs while resident: "cpu" or "cuda:N"
    backend: str  # "diffusers", "sam2", "rembg", or a test's label
    model_id: str
    offload: Callable[[], None] | None = None  # move the weights to host memory
    restore: Callable[[], None] | None = None  # move them back to the compute device
    close: Callable[[], None] | None = None  # release anything beyond garbage collection
    extra: dict[str, Any] = field(default_factory=dict)  # shown in the registry snapshot
    # Pipelines keep per-call state (diffusers' guidance scale, SAM2's image embedding): jobs
    # hold this lock while they run the model, so two threads never interleave on one object.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class _Entry:
    key: str
    loaded: Loaded[Any]
    estimated_bytes: int
    nbytes: int
    measured: bool
    on_device: bool
    last_used: float
    loaded_at: float
    in_use: int = 0
    hits: int = 0
    evictions: int = 0


def _normalize(device: str) -> str:
    return "cuda:0" if device == "cuda" else device


class ModelRegistry:
    """Load-once model cache with an LRU memory budget on one compute device.

    ``device`` is the compute device ("cpu" or "cuda:N"). ``budget_bytes`` caps the bytes of
    models resident on it (None: no cap). ``memory_probe`` returns the device's allocated
    bytes (``torch.cuda.memory_allocated``) so footprints can be measured; ``after_evict``
    runs after a model leaves the device (``torch.cuda.empty_cache`` on CUDA).
    """

    def __init__(
        self,
        *,
        device: str = "cpu",
        budget_bytes: int | None = None,
        evict_to: str = "cpu",
        memory_probe: Callable[[], int] | None = None,
        after_evict: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if evict_to not in ("cpu", "drop"):
            raise AIConfigError(f"evict_to must be cpu or drop, got {evict_to!r}", field="evict_to")
        if budget_bytes is not None and budget_bytes < 0:
            raise AIConfigError(
                f"vram_budget must be >= 0 bytes, got {budget_bytes!r}", field="vram_budget"
            )
        self.device = _normalize(device)
        self.budget_bytes = budget_bytes
        # Moving weights to host memory only frees something when the device is not the host.
        self.evict_to = evict_to if self.device != "cpu" else "drop"
        self._probe = memory_probe
        self._after_evict = after_evict
        self._clock = clock
        self._lock = threading.Lock()  # guards _entries and the counters; held briefly
        self._load_lock = threading.Lock()  # serializes loads, restores and evictions
        self._entries: dict[str, _Entry] = {}
        self.loads = 0
        self.evictions = 0

    # -- the one entry point jobs use ------------------------------------------------------

    @contextmanager
    def use(
        self, key: str, loader: Callable[[], Loaded[M]], *, estimate: int = 0
    ) -> Iterator[Loaded[M]]:
        """Yield the model under ``key``, loading it with ``loader`` the first time.

        ``estimate`` (bytes) lets the registry make room before the load; the real footprint
        is known after it. The model is pinned (never evicted) until the block exits.
        A loader's exception propagates and leaves nothing behind.
        """
        entry = self._pin_if_resident(key)
        if entry is None:
            with self._load_lock:
                entry = self._pin_if_resident(key)
                if entry is None:
                    entry = self._bring_in(key, loader, estimate)
        try:
            yield entry.loaded
        finally:
            with self._lock:
                entry.in_use -= 1
                entry.last_used = self._clock()

    # -- inspection ------------------------------------------------------------------------

    def resident_bytes(self) -> int:
        """Bytes of models currently resident on the compute device."""
        with self._lock:
            return self._resident_bytes()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def is_resident(self, key: str) -> bool:
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.on_device

    def snapshot(self) -> dict[str, Any]:
        """What is loaded, for /health: sizes, where each model is, use counters."""
        now = self._clock()
        with self._lock:
            models = [
                {
                    "key": e.key,
                    "model_id": e.loaded.model_id,
                    "backend": e.loaded.backend,
                    "device": e.loaded.device,
                    "state": "resident" if e.on_device else "offloaded",
                    "bytes": e.nbytes,
                    "estimated_bytes": e.estimated_bytes,
                    "measured": e.measured,
                    "in_use": e.in_use,
                    "hits": e.hits,
                    "evictions": e.evictions,
                    "idle_seconds": round(now - e.last_used, 3),
                    **e.loaded.extra,
                }
                for e in sorted(self._entries.values(), key=lambda e: e.last_used, reverse=True)
            ]
            return {
                "device": self.device,
                "budget_bytes": self.budget_bytes,
                "resident_bytes": self._resident_bytes(),
                "evict_to": self.evict_to,
                "loads": self.loads,
                "evictions": self.evictions,
                "models": models,
            }

    # -- explicit control ------------------------------------------------------------------

    def evict(self, key: str, *, drop: bool = False) -> bool:
        """Evict ``key`` now (offload, or drop when ``drop`` or offloading is impossible).

        Returns False when the model is absent or pinned by a running job.
        """
        with self._load_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is None or entry.in_use:
                    return False
                was_on_device = entry.on_device
                entry.on_device = False
                if drop or not self._can_offload(entry):
                    del self._entries[key]
            if drop and not was_on_device:
                self._close(entry)
            elif was_on_device:
                self._evict_now(entry, drop=drop or not self._can_offload(entry))
            return True

    def clear(self) -> None:
        """Drop every model that no job is using (at shutdown)."""
        with self._lock:
            keys = [k for k, e in self._entries.items() if not e.in_use]
        for key in keys:
            self.evict(key, drop=True)

    # -- internals -------------------------------------------------------------------------

    def _pin_if_resident(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.on_device:
                return None
            entry.in_use += 1
            entry.hits += 1
            entry.last_used = self._clock()
            return entry

    def _bring_in(self, key: str, loader: Callable[[], Loaded[Any]], estimate: int) -> _Entry:
        # Called with _load_lock held.
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.in_use += 1  # pinned while it moves back, so it cannot be a victim
        if entry is not None:
            try:
                self._make_room(entry.nbytes if self._counts(entry.loaded) else 0, exclude=key)
                before = self._allocated()
                if entry.loaded.restore is not None:
                    entry.loaded.restore()
                measured = self._allocated() - before
            except BaseException:
                with self._lock:
                    entry.in_use -= 1
                raise
            with self._lock:
                if measured > 0:
                    entry.nbytes, entry.measured = measured, True
                entry.on_device = True
                entry.hits += 1
                entry.last_used = self._clock()
            log.info("model %s moved back to %s (%d bytes)", key, self.device, entry.nbytes)
            return entry

        self._make_room(estimate, exclude=key)
        before = self._allocated()
        started = time.perf_counter()
        loaded = loader()
        seconds = time.perf_counter() - started
        measured = self._allocated() - before if self._counts(loaded) else 0
        now = self._clock()
        entry = _Entry(
            key=key,
            loaded=loaded,
            estimated_bytes=loaded.nbytes,
            nbytes=measured if measured > 0 else loaded.nbytes,
            measured=measured > 0,
            on_device=True,
            last_used=now,
            loaded_at=now,
            in_use=1,
        )
        loaded.extra.setdefault("load_seconds", round(seconds, 3))
        with self._lock:
            self._entries[key] = entry
            self.loads += 1
        log.info("model %s loaded on %s (%d bytes)", key, loaded.device, entry.nbytes)
        # The estimate may have been short: settle the budget with the real footprint.
        self._make_room(0, exclude=key)
        return entry

    def _make_room(self, incoming: int, *, exclude: str) -> None:
        # Called with _load_lock held.
        if self.budget_bytes is None:
            return
        victims: list[tuple[_Entry, bool]] = []
        with self._lock:
            used = self._resident_bytes()
            candidates = sorted(
                (
                    e
                    for e in self._entries.values()
                    if e.on_device and not e.in_use and e.key != exclude and self._counts(e.loaded)
                ),
                key=lambda e: e.last_used,
            )
            for entry in candidates:
                if used + incoming <= self.budget_bytes:
                    break
                drop = not self._can_offload(entry)
                entry.on_device = False  # from here on a concurrent use() takes the slow path
                if drop:
                    del self._entries[entry.key]
                used -= entry.nbytes
                victims.append((entry, drop))
            if used + incoming > self.budget_bytes:
                log.warning(
                    "model memory budget exceeded: %d bytes resident + %d incoming > %d "
                    "(the rest is pinned by running jobs or larger than the budget)",
                    used,
                    incoming,
                    self.budget_bytes,
                )
        for entry, drop in victims:
            self._evict_now(entry, drop=drop)

    def _evict_now(self, entry: _Entry, *, drop: bool) -> None:
        if drop:
            self._close(entry)
        elif entry.loaded.offload is not None:
            entry.loaded.offload()
        with self._lock:
            entry.evictions += 1
            self.evictions += 1
        log.info(
            "model %s evicted (%s, %d bytes)", entry.key, "drop" if drop else "cpu", entry.nbytes
        )
        if self._after_evict is not None:
            self._after_evict()

    def _close(self, entry: _Entry) -> None:
        if entry.loaded.close is not None:
            entry.loaded.close()

    def _can_offload(self, entry: _Entry) -> bool:
        return (
            self.evict_to == "cpu"
            and entry.loaded.offload is not None
            and entry.loaded.restore is not None
        )

    def _counts(self, loaded: Loaded[Any]) -> bool:
        return _normalize(loaded.device) == self.device

    def _resident_bytes(self) -> int:
        return sum(
            e.nbytes for e in self._entries.values() if e.on_device and self._counts(e.loaded)
        )

    def _allocated(self) -> int:
        return self._probe() if self._probe is not None else 0
