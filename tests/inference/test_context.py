"""InferenceContext: lifecycle, failure memory, health (no model libraries needed)."""

from __future__ import annotations

import pytest

from inference import AIConfig, InferenceContext, ModelUnavailable, NotStarted
from inference.registry import Loaded


def _no_cuda() -> bool:
    return False


def test_lifecycle_is_explicit() -> None:
    ctx = InferenceContext(AIConfig(), cuda_available=_no_cuda)
    with pytest.raises(NotStarted):
        _ = ctx.registry
    ctx.start()
    with pytest.raises(RuntimeError, match="already started"):
        ctx.start()
    ctx.stop()
    with pytest.raises(NotStarted):
        _ = ctx.device
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        ctx.start()


def test_health_on_a_cpu_without_weights_says_fallback_and_why() -> None:
    with InferenceContext(AIConfig(), cuda_available=_no_cuda) as ctx:
        health = ctx.health()
    assert health["device"] == "cpu" and health["dtype"] == "float32" and health["gpu"] is None
    assert health["models"] == []
    assert health["memory"]["resident_bytes"] == 0
    for name in ("inpaint", "segment", "remove_bg"):
        assert health["pipelines"][name]["mode"] == "fallback"
        assert health["pipelines"][name]["fallback_reason"] == "no model configured"


def test_a_failed_load_is_remembered_then_retried() -> None:
    calls: list[int] = []

    def broken() -> Loaded[object]:
        calls.append(1)
        raise OSError("disk on fire")

    config = AIConfig(load_retry_seconds=3600)
    with InferenceContext(config, cuda_available=_no_cuda) as ctx:
        for _ in range(2):
            with pytest.raises(ModelUnavailable, match="loading k failed: OSError: disk on fire"):
                with ctx.model("inpaint", "k", broken):
                    pass
        assert len(calls) == 1  # the second job went straight to the fallback
        assert "disk on fire" in ctx.health()["pipelines"]["inpaint"]["fallback_reason"]
        ctx.forget_failures()
        with pytest.raises(ModelUnavailable):
            with ctx.model("inpaint", "k", broken):
                pass
        assert len(calls) == 2


def test_errors_inside_the_block_are_not_load_failures() -> None:
    def fine() -> Loaded[object]:
        return Loaded(model=object(), nbytes=1, device="cpu", backend="fake", model_id="m")

    with InferenceContext(AIConfig(), cuda_available=_no_cuda) as ctx:
        with pytest.raises(ZeroDivisionError):
            with ctx.model("segment", "m", fine):
                raise ZeroDivisionError
        with ctx.model("segment", "m", fine) as loaded:
            assert loaded.model_id == "m"
        assert ctx.registry.snapshot()["loads"] == 1
