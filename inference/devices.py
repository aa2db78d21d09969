"""Explicit device and dtype choice for the pipelines.

``auto`` means CUDA with float16 when torch sees a GPU, else the CPU with float32; both can be
forced by configuration (``NEXUS_AI_DEVICE``, ``NEXUS_AI_DTYPE``). torch is imported lazily so
that the CPU fallbacks work in an environment without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inference.exceptions import AIConfigError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DeviceChoice:
    """Where models run and in which precision, with the reason for the choice."""

    device: str  # "cpu" or "cuda:N"
    dtype: str  # "float16", "bfloat16" or "float32"
    reason: str

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def torch_device(self) -> torch.device:
        import torch

        return torch.device(self.device)

    def torch_dtype(self) -> torch.dtype:
        import torch

        dtype: torch.dtype = getattr(torch, self.dtype)
        return dtype


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _cuda_available() -> bool:
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def choose_device(
    device: str = "auto",
    dtype: str = "auto",
    *,
    cuda_available: Callable[[], bool] = _cuda_available,
) -> DeviceChoice:
    """Resolve configured ``device``/``dtype`` (each may be ``auto``) into a DeviceChoice.

    A CUDA device that is asked for but absent is a configuration error, not a silent CPU
    run; float16 on the CPU is refused because many CPU kernels lack it.
    """
    has_cuda = cuda_available()
    if device == "auto":
        resolved = "cuda:0" if has_cuda else "cpu"
        reason = "auto: CUDA is available" if has_cuda else "auto: no CUDA device"
    elif device.startswith("cuda"):
        if not has_cuda:
            raise AIConfigError(
                f"device must be one that exists, got {device!r} but torch sees no CUDA device",
                field="device",
            )
        resolved = device if ":" in device else "cuda:0"
        reason = "configured"
    else:
        resolved, reason = "cpu", "configured"

    if dtype == "auto":
        resolved_dtype = "float16" if resolved.startswith("cuda") else "float32"
    elif dtype == "float16" and resolved == "cpu":
        raise AIConfigError(
            "dtype must be float32 or bfloat16 on the CPU, got 'float16'", field="dtype"
        )
    else:
        resolved_dtype = dtype
    return DeviceChoice(device=resolved, dtype=resolved_dtype, reason=reason)


def gpu_info(choice: DeviceChoice) -> dict[str, Any] | None:
    """Name and memory of the chosen CUDA device (None on the CPU), for /health."""
    if not choice.is_cuda:
        return None
    import torch

    index = torch.device(choice.device).index or 0
    free, total = torch.cuda.mem_get_info(index)
    return {
        "name": torch.cuda.get_device_name(index),
        "total_bytes": int(total),
        "free_bytes": int(free),
        "used_bytes": int(total - free),
        "allocated_bytes": int(torch.cuda.memory_allocated(index)),
        "reserved_bytes": int(torch.cuda.memory_reserved(index)),
    }


def module_nbytes(modules: Iterable[Any]) -> int:
    """Parameters and buffers of torch modules, in bytes (numel x element size)."""
    import torch

    total = 0
    for module in modules:
        if not isinstance(module, torch.nn.Module):
            continue
        for tensor in (*module.parameters(), *module.buffers()):
            total += tensor.numel() * tensor.element_size()
    return total
