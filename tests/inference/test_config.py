from __future__ import annotations

from pathlib import Path

import pytest

from inference.config import DEFAULT_INPAINT_MODEL, AIConfig, parse_size
from inference.exceptions import AIConfigError
from inference.model_files import default_rembg_home


def test_defaults_configure_u2netp_for_background_removal_only() -> None:
    config = AIConfig.from_env({})
    assert config.device == "auto" and config.dtype == "auto"
    assert config.inpaint_model_id is None
    assert config.sam2_checkpoint is None
    assert config.rembg_session_name == "u2netp"
    assert config.rembg_folder == default_rembg_home()
    assert AIConfig().rembg_session_name is None  # the dataclass itself configures no weights


@pytest.mark.parametrize("off", ["none", "off", "GrabCut"])
def test_background_removal_can_be_turned_off(off: str) -> None:
    assert AIConfig.from_env({"NEXUS_REMBG_MODEL": off}).rembg_session_name is None


def test_a_model_path_takes_a_custom_session_over_the_default_name() -> None:
    config = AIConfig.from_env({"NEXUS_REMBG_MODEL_PATH": "/m/x.onnx"})
    assert config.rembg_session_name == "u2net_custom"
    env = {"NEXUS_REMBG_MODEL_PATH": "/m/x.onnx", "NEXUS_REMBG_MODEL": "dis_custom"}
    assert AIConfig.from_env(env).rembg_session_name == "dis_custom"
    assert AIConfig.from_env({"NEXUS_REMBG_HOME": "/h"}).rembg_folder == Path("/h")


def test_every_variable_is_read() -> None:
    config = AIConfig.from_env(
        {
            "NEXUS_AI_DEVICE": "CUDA:1",
            "NEXUS_AI_DTYPE": "bfloat16",
            "NEXUS_AI_VRAM_BUDGET": "6GiB",
            "NEXUS_AI_EVICT_TO": "drop",
            "NEXUS_AI_ALLOW_DOWNLOAD": "yes",
            "NEXUS_INPAINT_MODEL": "sdxl",
            "NEXUS_INPAINT_MAX_SIDE": "768",
            "NEXUS_SAM2_CONFIG": "configs/sam2.1/sam2.1_hiera_t.yaml",
            "NEXUS_SAM2_CHECKPOINT": "/models/sam2.1_hiera_tiny.pt",
            "NEXUS_SAM2_OVERRIDES": "++model.image_size=512; ++model.x=[1,2]",
            "NEXUS_REMBG_MODEL": "isnet-general-use",
            "REMBG_HOME": "/models/rembg",
            "NEXUS_AI_FALLBACK_MAX_SIDE": "384",
            "NEXUS_AI_GRABCUT_ITERATIONS": "3",
            "NEXUS_AI_LOAD_RETRY_SECONDS": "2.5",
        }
    )
    assert config.device == "cuda:1" and config.dtype == "bfloat16"
    assert config.vram_budget == 6 * 1024**3
    assert config.evict_to == "drop" and config.allow_download
    assert config.inpaint_model_id == DEFAULT_INPAINT_MODEL
    assert config.inpaint_max_side == 768
    assert config.sam2_checkpoint == Path("/models/sam2.1_hiera_tiny.pt")
    assert config.sam2_overrides == ("++model.image_size=512", "++model.x=[1,2]")
    assert config.rembg_session_name == "isnet-general-use"
    assert config.rembg_home == Path("/models/rembg")
    assert config.fallback_max_side == 384 and config.grabcut_iterations == 3
    assert config.load_retry_seconds == 2.5


def test_nexus_rembg_home_wins_over_rembgs_own_variables() -> None:
    env = {"NEXUS_REMBG_HOME": "/a", "REMBG_HOME": "/b", "U2NET_HOME": "/c"}
    assert AIConfig.from_env(env).rembg_home == Path("/a")
    assert AIConfig.from_env({"U2NET_HOME": "/c"}).rembg_home == Path("/c")


def test_a_model_path_implies_u2net_custom() -> None:
    config = AIConfig.from_env({"NEXUS_REMBG_MODEL_PATH": "/m/x.onnx"})
    assert config.rembg_session_name == "u2net_custom"


def test_local_directory_and_hub_ids_pass_through() -> None:
    assert AIConfig(inpaint_model="/srv/models/sd").inpaint_model_id == "/srv/models/sd"
    assert AIConfig(inpaint_model="org/model").inpaint_model_id == "org/model"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1024", 1024),
        ("8GiB", 8 * 1024**3),
        ("512MiB", 512 * 1024**2),
        ("1.5G", 1_500_000_000),
        ("2kb", 2000),
        ("3 GB", 3_000_000_000),
        ("7b", 7),
    ],
)
def test_sizes(raw: str, expected: int) -> None:
    assert parse_size(raw) == expected


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"NEXUS_AI_VRAM_BUDGET": "lots"}, "NEXUS_AI_VRAM_BUDGET must be a size"),
        ({"NEXUS_AI_DEVICE": "tpu"}, "NEXUS_AI_DEVICE: device must be auto, cpu, cuda"),
        ({"NEXUS_AI_DTYPE": "int8"}, "NEXUS_AI_DTYPE: dtype must be auto or float16"),
        ({"NEXUS_AI_EVICT_TO": "disk"}, "evict_to must be cpu or drop, got 'disk'"),
        ({"NEXUS_AI_GRABCUT_ITERATIONS": "x"}, "NEXUS_AI_GRABCUT_ITERATIONS must be an integer"),
        ({"NEXUS_AI_ALLOW_DOWNLOAD": "maybe"}, "must be a boolean"),
        ({"NEXUS_SAM2_CONFIG": "sam2.1_hiera_l"}, "sam2_config must be a .yaml config name"),
        ({"NEXUS_REMBG_MODEL": "u2net_custom"}, "accompanied by rembg_model_path"),
    ],
)
def test_bad_values_name_the_variable_and_value(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(AIConfigError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        AIConfig.from_env(env)


def test_overrides_win_and_unknown_names_are_refused() -> None:
    assert AIConfig.from_env({"NEXUS_AI_DEVICE": "cuda"}, device="cpu").device == "cpu"
    with pytest.raises(AIConfigError, match="unknown AI settings: colour"):
        AIConfig.from_env({}, colour="red")
