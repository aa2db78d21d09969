"""The model registry with fake models of declared sizes (no torch needed)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from inference.exceptions import AIConfigError
from inference.registry import Loaded, ModelRegistry


@dataclass
class FakeModel:
    key: str
    size: int
    on_gpu: bool = True
    events: list[str] = field(default_factory=list)


class Fakes:
    """Loaders for fake models that record loads, offloads, restores and closes."""

    def __init__(self, device: str = "cuda:0", *, movable: bool = True) -> None:
        self.device = device
        self.movable = movable
        self.events: list[str] = []
        self.loads: dict[str, int] = {}
        self.lock = threading.Lock()

    def loader(self, key: str, size: int) -> Callable[[], Loaded[FakeModel]]:
        def load() -> Loaded[FakeModel]:
            with self.lock:
                self.loads[key] = self.loads.get(key, 0) + 1
                self.events.append(f"load {key}")
            model = FakeModel(key, size)

            def offload() -> None:
                model.on_gpu = False
                with self.lock:
                    self.events.append(f"offload {key}")

            def restore() -> None:
                model.on_gpu = True
                with self.lock:
                    self.events.append(f"restore {key}")

            def close() -> None:
                with self.lock:
                    self.events.append(f"close {key}")

            return Loaded(
                model=model,
                nbytes=size,
                device=self.device,
                backend="fake",
                model_id=key,
                offload=offload if self.movable else None,
                restore=restore if self.movable else None,
                close=close,
            )

        return load


def use(registry: ModelRegistry, fakes: Fakes, key: str, size: int) -> FakeModel:
    with registry.use(key, fakes.loader(key, size), estimate=size) as loaded:
        assert loaded.model.key == key
        return loaded.model


def states(registry: ModelRegistry) -> dict[str, str]:
    return {m["key"]: m["state"] for m in registry.snapshot()["models"]}


def test_a_model_loads_once_and_stays_resident() -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=1000), Fakes()
    first = use(registry, fakes, "a", 10)
    second = use(registry, fakes, "a", 10)
    assert first is second
    assert fakes.loads == {"a": 1}
    assert registry.resident_bytes() == 10
    (entry,) = registry.snapshot()["models"]
    assert entry["hits"] == 1 and entry["bytes"] == 10 and entry["state"] == "resident"


def test_least_recently_used_models_move_to_the_cpu_when_the_budget_runs_short() -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=100), Fakes()
    use(registry, fakes, "a", 40)
    use(registry, fakes, "b", 40)
    use(registry, fakes, "a", 40)  # a is now more recent than b
    model_c = use(registry, fakes, "c", 40)
    assert states(registry) == {"a": "resident", "b": "offloaded", "c": "resident"}
    assert registry.resident_bytes() == 80
    assert "offload b" in fakes.events and model_c.on_gpu

    model_b = use(registry, fakes, "b", 40)  # back from the CPU, not reloaded
    assert model_b.on_gpu and fakes.loads["b"] == 1
    assert fakes.events[-2:] == ["offload a", "restore b"]  # a was the LRU one now
    assert states(registry) == {"a": "offloaded", "b": "resident", "c": "resident"}
    assert registry.snapshot()["evictions"] == 2


def test_drop_mode_forgets_the_victim_and_reloads_it_later() -> None:
    registry = ModelRegistry(device="cuda:0", budget_bytes=50, evict_to="drop")
    fakes = Fakes()
    use(registry, fakes, "a", 30)
    use(registry, fakes, "b", 30)
    assert "a" not in registry and "close a" in fakes.events
    use(registry, fakes, "a", 30)
    assert fakes.loads["a"] == 2 and "b" not in registry


def test_models_that_cannot_move_are_dropped_even_in_cpu_mode() -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=50), Fakes(movable=False)
    use(registry, fakes, "a", 30)
    use(registry, fakes, "b", 30)
    assert "a" not in registry and "close a" in fakes.events


def test_room_is_made_before_the_load_from_the_estimate() -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=100), Fakes()
    use(registry, fakes, "a", 60)
    seen: list[bool] = []
    inner = fakes.loader("b", 60)

    def load_b() -> Loaded[FakeModel]:
        seen.append(registry.is_resident("a"))
        return inner()

    with registry.use("b", load_b, estimate=60):
        pass
    assert seen == [False]


def test_a_pinned_model_is_never_evicted(caplog: pytest.LogCaptureFixture) -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=50), Fakes()
    with registry.use("a", fakes.loader("a", 40), estimate=40) as a:
        with caplog.at_level(logging.WARNING, logger="inference.registry"):
            use(registry, fakes, "b", 40)
        assert a.model.on_gpu and registry.is_resident("a")
        assert "budget exceeded" in caplog.text
    # Releasing a counts as a use, so b is now the least recently used one.
    use(registry, fakes, "c", 10)
    assert states(registry) == {"a": "resident", "b": "offloaded", "c": "resident"}
    assert registry.resident_bytes() <= 50


def test_the_footprint_is_measured_when_a_probe_is_given() -> None:
    allocated = [1000]

    def probe() -> int:
        return allocated[0]

    registry, fakes = ModelRegistry(device="cuda:0", memory_probe=probe), Fakes()
    inner = fakes.loader("a", 10)

    def load() -> Loaded[FakeModel]:
        allocated[0] += 777  # what the weights really took on the device
        return inner()

    with registry.use("a", load):
        pass
    (entry,) = registry.snapshot()["models"]
    assert entry["bytes"] == 777 and entry["estimated_bytes"] == 10 and entry["measured"]


def test_models_living_elsewhere_do_not_count_against_the_device_budget() -> None:
    registry = ModelRegistry(device="cuda:0", budget_bytes=50)
    use(registry, Fakes("cpu"), "onnx", 40)  # e.g. an ONNX session on CPU providers
    use(registry, Fakes(), "a", 40)
    assert states(registry) == {"onnx": "resident", "a": "resident"}
    assert registry.resident_bytes() == 40


def test_a_cpu_registry_drops_instead_of_offloading() -> None:
    registry = ModelRegistry(device="cpu", budget_bytes=50, evict_to="cpu")
    fakes = Fakes("cpu")
    assert registry.evict_to == "drop"
    use(registry, fakes, "a", 30)
    use(registry, fakes, "b", 30)
    assert "a" not in registry


def test_a_failing_loader_leaves_nothing_behind() -> None:
    registry = ModelRegistry(device="cuda:0", budget_bytes=100)

    def broken() -> Loaded[FakeModel]:
        raise OSError("weights missing")

    with pytest.raises(OSError, match="weights missing"):
        with registry.use("x", broken):
            pass
    assert "x" not in registry and registry.snapshot()["loads"] == 0


def test_explicit_evict_and_clear() -> None:
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=100), Fakes()
    use(registry, fakes, "a", 10)
    use(registry, fakes, "b", 10)
    assert registry.evict("a")
    assert states(registry)["a"] == "offloaded"
    with registry.use("b", fakes.loader("b", 10)):
        assert not registry.evict("b")  # pinned
    registry.clear()
    assert registry.snapshot()["models"] == []
    assert {"close a", "close b"} <= set(fakes.events)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(AIConfigError, match="evict_to must be cpu or drop, got 'swap'"):
        ModelRegistry(evict_to="swap")
    with pytest.raises(AIConfigError, match="vram_budget must be >= 0 bytes, got -1"):
        ModelRegistry(budget_bytes=-1)


def test_concurrent_jobs_smoke() -> None:
    """Many threads using, loading and evicting at once: no model is loaded twice at the
    same time, every job gets its own model, pins hold, and the budget holds at rest."""
    registry, fakes = ModelRegistry(device="cuda:0", budget_bytes=100), Fakes()
    sizes = {f"m{i}": 30 for i in range(6)}
    loading: set[str] = set()
    loading_lock = threading.Lock()
    errors: list[BaseException] = []

    def loader(key: str) -> Callable[[], Loaded[FakeModel]]:
        inner = fakes.loader(key, sizes[key])

        def load() -> Loaded[FakeModel]:
            with loading_lock:
                assert key not in loading, f"{key} loaded twice at once"
                loading.add(key)
            try:
                return inner()
            finally:
                with loading_lock:
                    loading.discard(key)

        return load

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(300):
                key = rng.choice(list(sizes))
                with registry.use(key, loader(key), estimate=sizes[key]) as loaded:
                    assert loaded.model.key == key
                    assert loaded.model.on_gpu, f"{key} used while offloaded"
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    snapshot = registry.snapshot()
    assert all(m["in_use"] == 0 for m in snapshot["models"])
    assert snapshot["resident_bytes"] <= 100
    assert sum(fakes.loads.values()) == len(fakes.loads) == 6  # offloaded, never reloaded
