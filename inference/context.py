"""The inference worker's long-lived state: configuration, device choice, model registry.

A worker builds one context at start-up and passes it to every job function (arq's ``ctx``
idea): ``inpaint(ctx, ...)``, ``segment(ctx, ...)``, ``remove_background(ctx, ...)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any, TypeVar

from inference import availability
from inference.config import AIConfig
from inference.devices import DeviceChoice, choose_device, gpu_info
from inference.exceptions import ModelUnavailable, NotStarted
from inference.registry import Loaded, ModelRegistry

log = logging.getLogger(__name__)

M = TypeVar("M")

# The share of a GPU's memory that models may fill when no budget is configured; the rest is
# left for activations (an SDXL step at 1024² needs a few GiB on top of the weights).
DEFAULT_BUDGET_FRACTION = 0.75


class InferenceContext:
    """Configuration, resolved device/dtype and the model registry of one worker.

    Lifecycle: ``start()`` resolves the device (importing torch when present) and creates the
    registry; ``stop()`` drops every model. It is also a context manager. Starting twice is
    an error. Pipelines refuse a context that is not started.
    """

    def __init__(
        self,
        config: AIConfig | None = None,
        *,
        cuda_available: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config or AIConfig()
        self._cuda_available = cuda_available
        self._device: DeviceChoice | None = None
        self._registry: ModelRegistry | None = None
        self._failures: dict[str, tuple[str, float]] = {}
        self._failures_lock = threading.Lock()
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> InferenceContext:
        """Resolve the device and dtype and create the model registry."""
        if self._device is not None:
            raise RuntimeError("InferenceContext already started")
        if self._stopped:
            raise RuntimeError("InferenceContext cannot be restarted; create a new one")
        kwargs = {} if self._cuda_available is None else {"cuda_available": self._cuda_available}
        device = choose_device(self.config.device, self.config.dtype, **kwargs)
        budget = self.config.vram_budget
        probe: Callable[[], int] | None = None
        after_evict: Callable[[], None] | None = None
        if device.is_cuda:
            import torch

            index = torch.device(device.device).index or 0
            if budget is None:
                budget = int(torch.cuda.get_device_properties(index).total_memory)
                budget = int(budget * DEFAULT_BUDGET_FRACTION)

            def probe() -> int:
                return int(torch.cuda.memory_allocated(index))

            def after_evict() -> None:
                torch.cuda.empty_cache()

        self._registry = ModelRegistry(
            device=device.device,
            budget_bytes=budget,
            evict_to=self.config.evict_to,
            memory_probe=probe,
            after_evict=after_evict,
        )
        self._device = device
        log.info("inference on %s (%s, %s)", device.device, device.dtype, device.reason)
        return self

    def stop(self) -> None:
        """Drop every model and release device memory."""
        if self._registry is not None:
            self._registry.clear()
        self._registry = None
        self._device = None
        self._stopped = True

    def __enter__(self) -> InferenceContext:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what pipelines use ----------------------------------------------------------------

    @property
    def device(self) -> DeviceChoice:
        if self._device is None:
            raise NotStarted("InferenceContext is not started (call start() or use `with`)")
        return self._device

    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            raise NotStarted("InferenceContext is not started (call start() or use `with`)")
        return self._registry

    @contextmanager
    def model(
        self,
        pipeline: str,
        key: str,
        loader: Callable[[], Loaded[M]],
        *,
        estimate: int = 0,
    ) -> Iterator[Loaded[M]]:
        """The real model for ``pipeline``, loaded once through the registry.

        Raises ModelUnavailable when the loader does (not configured, not on disk) or fails
        in any other way; the failure is remembered for ``load_retry_seconds`` so that jobs
        in between go straight to the fallback instead of retrying a slow failing load.
        """
        registry = self.registry
        cached = self._failure(pipeline)
        if cached is not None:
            raise ModelUnavailable(pipeline, cached)
        with ExitStack() as stack:
            try:
                loaded = stack.enter_context(registry.use(key, loader, estimate=estimate))
            except ModelUnavailable as exc:
                self._remember_failure(pipeline, exc.reason)
                raise
            except Exception as exc:
                reason = f"loading {key} failed: {type(exc).__name__}: {exc}"
                log.exception("%s: %s", pipeline, reason)
                self._remember_failure(pipeline, reason)
                raise ModelUnavailable(pipeline, reason) from exc
            yield loaded

    def forget_failures(self) -> None:
        """Let the next job of every pipeline try its real model again."""
        with self._failures_lock:
            self._failures.clear()

    def health(self) -> dict[str, Any]:
        """Device, GPU memory, loaded models and each pipeline's mode, for /health."""
        device = self.device
        registry = self.registry.snapshot()
        resident = {m["key"].split(":", 1)[0] for m in registry["models"]}
        pipelines: dict[str, Any] = {}
        for name, configured in _configured_models(self.config).items():
            reason = self._failure(name)
            if configured is None:
                reason = reason or "no model configured"
            elif missing := availability.missing_libraries(name):
                reason = reason or missing
            pipelines[name] = {
                "mode": "fallback" if reason else "real",
                "model": configured,
                "loaded": name in resident,
                "fallback_reason": reason,
            }
        return {
            "device": device.device,
            "dtype": device.dtype,
            "device_reason": device.reason,
            "gpu": gpu_info(device),
            "memory": {k: v for k, v in registry.items() if k != "models"},
            "models": registry["models"],
            "pipelines": pipelines,
        }

    # -- internals -------------------------------------------------------------------------

    def _failure(self, pipeline: str) -> str | None:
        with self._failures_lock:
            cached = self._failures.get(pipeline)
            if cached is None:
                return None
            reason, at = cached
            if time.monotonic() - at >= self.config.load_retry_seconds:
                del self._failures[pipeline]
                return None
            return reason

    def _remember_failure(self, pipeline: str, reason: str) -> None:
        with self._failures_lock:
            self._failures[pipeline] = (reason, time.monotonic())


def _configured_models(config: AIConfig) -> dict[str, str | None]:
    return {
        "inpaint": config.inpaint_model_id,
        "segment": str(config.sam2_checkpoint) if config.sam2_checkpoint else None,
        "remove_bg": (
            str(config.rembg_model_path or config.rembg_session_name)
            if config.rembg_session_name
            else None
        ),
    }
