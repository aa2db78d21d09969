from __future__ import annotations

import pytest

from inference.devices import choose_device
from inference.exceptions import AIConfigError
from tests.inference.conftest import require_ai_stack


def _yes() -> bool:
    return True


def _no() -> bool:
    return False


def test_auto_is_cuda_fp16_when_a_gpu_is_there() -> None:
    choice = choose_device("auto", "auto", cuda_available=_yes)
    assert (choice.device, choice.dtype, choice.is_cuda) == ("cuda:0", "float16", True)


def test_auto_is_cpu_fp32_without_a_gpu() -> None:
    choice = choose_device("auto", "auto", cuda_available=_no)
    assert (choice.device, choice.dtype, choice.is_cuda) == ("cpu", "float32", False)
    assert "no CUDA" in choice.reason


def test_configuration_overrides_auto() -> None:
    assert choose_device("cpu", "auto", cuda_available=_yes).device == "cpu"
    assert choose_device("cuda:1", "bfloat16", cuda_available=_yes).device == "cuda:1"
    assert choose_device("cuda", "float32", cuda_available=_yes).dtype == "float32"
    assert choose_device("cpu", "bfloat16", cuda_available=_no).dtype == "bfloat16"


def test_a_missing_gpu_is_a_configuration_error_not_a_silent_cpu_run() -> None:
    with pytest.raises(AIConfigError, match="torch sees no CUDA device"):
        choose_device("cuda", "auto", cuda_available=_no)


def test_fp16_on_the_cpu_is_refused() -> None:
    with pytest.raises(AIConfigError, match="float32 or bfloat16 on the CPU, got 'float16'"):
        choose_device("cpu", "float16", cuda_available=_no)


def test_torch_dtype_maps_names() -> None:
    require_ai_stack("torch")
    import torch

    assert choose_device("cpu", "auto", cuda_available=_no).torch_dtype() is torch.float32
    assert choose_device("cuda", "auto", cuda_available=_yes).torch_dtype() is torch.float16
