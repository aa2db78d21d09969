"""Settings of the AI side, read once from a mapping (the environment) in one place.

Nothing else in ``inference`` reads ``os.environ``: the worker builds one ``AIConfig`` with
``AIConfig.from_env(os.environ)`` and hands it to ``InferenceContext``. The variables are listed
in docs/inference.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.exceptions import AIConfigError
from inference.model_files import default_rembg_home

DEVICES_HELP = "auto, cpu, cuda or cuda:N"
DTYPES = ("auto", "float16", "bfloat16", "float32")
EVICT_MODES = ("cpu", "drop")

# Short names for the inpainting checkpoints the pipeline is known to work with.
INPAINT_ALIASES: dict[str, str] = {
    "sdxl": "diffusers/stable-diffusion-xl-1.0-inpainting-0.1",
    "sd15": "stable-diffusion-v1-5/stable-diffusion-inpainting",
    "sd2": "stabilityai/stable-diffusion-2-inpainting",
}
DEFAULT_INPAINT_MODEL = INPAINT_ALIASES["sdxl"]
DEFAULT_SAM2_CONFIG = "configs/sam2.1/sam2.1_hiera_l.yaml"
# Background removal runs U²-Net-p by default: `make install` places its file in the default
# rembg home (inference/model_files.py). NEXUS_REMBG_MODEL=none turns it off (GrabCut).
DEFAULT_REMBG_MODEL = "u2netp"
OFF_WORDS = ("none", "off", "grabcut")
REMBG_OFF_REASON = (
    "background removal's model is turned off (NEXUS_REMBG_MODEL=none); "
    "unset it for the default model u2netp"
)

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class AIConfig:
    """Every tunable of the inference worker.

    ``AIConfig()`` configures no weights (every pipeline runs its CPU fallback). What the
    server and workers use, ``AIConfig.from_env``, adds the deployment default: background
    removal runs U²-Net-p from the default rembg home (``make install`` puts it there) unless
    NEXUS_REMBG_MODEL names another model or ``none``.
    """

    device: str = "auto"  # auto: CUDA when available, else CPU
    dtype: str = "auto"  # auto: float16 on CUDA, float32 on CPU
    vram_budget: int | None = None  # bytes of models resident on the device; None: 90 % of GPU
    evict_to: str = "cpu"  # LRU victims move to host memory ("cpu") or are dropped ("drop")
    allow_download: bool = False  # let diffusers fetch a hub id that is not in the local cache
    inpaint_model: str | None = None  # hub id, alias (sdxl, sd15, sd2) or local directory
    inpaint_max_side: int = 1024  # the diffusion runs at most at this many pixels per side
    sam2_config: str = DEFAULT_SAM2_CONFIG  # a config name inside the sam2 package
    sam2_checkpoint: Path | None = None  # .pt with the state dict under "model"
    sam2_overrides: tuple[str, ...] = ()  # extra hydra overrides for the SAM2 config
    rembg_model: str | None = None  # rembg model name (u2netp, u2net, ...); None: GrabCut only
    rembg_model_path: Path | None = None  # an .onnx under rembg_home: implies u2net_custom
    rembg_home: Path | None = None  # rembg's model folder; None: default_rembg_home()
    fallback_max_side: int = 512  # GrabCut runs on a copy downscaled to this size
    grabcut_iterations: int = 5
    load_retry_seconds: float = 300.0  # a failed model load is retried after this long

    def __post_init__(self) -> None:
        _check(bool(_DEVICE_RE.match(self.device)), "device", self.device, DEVICES_HELP)
        _check(self.dtype in DTYPES, "dtype", self.dtype, " or ".join(DTYPES))
        _check(
            self.vram_budget is None or self.vram_budget >= 0,
            "vram_budget",
            self.vram_budget,
            "a size in bytes >= 0",
        )
        _check(self.evict_to in EVICT_MODES, "evict_to", self.evict_to, " or ".join(EVICT_MODES))
        _check(
            64 <= self.inpaint_max_side <= 4096,
            "inpaint_max_side",
            self.inpaint_max_side,
            "64..4096",
        )
        _check(
            self.sam2_config.endswith(".yaml"),
            "sam2_config",
            self.sam2_config,
            "a .yaml config name inside the sam2 package",
        )
        _check(
            64 <= self.fallback_max_side <= 4096,
            "fallback_max_side",
            self.fallback_max_side,
            "64..4096",
        )
        _check(
            1 <= self.grabcut_iterations <= 20,
            "grabcut_iterations",
            self.grabcut_iterations,
            "1..20",
        )
        _check(
            self.load_retry_seconds >= 0,
            "load_retry_seconds",
            self.load_retry_seconds,
            ">= 0",
        )
        _check(
            self.rembg_model != "u2net_custom" or self.rembg_model_path is not None,
            "rembg_model",
            self.rembg_model,
            "accompanied by rembg_model_path when it is u2net_custom",
        )

    @property
    def inpaint_model_id(self) -> str | None:
        """The configured inpainting model with aliases resolved (None: not configured)."""
        if not self.inpaint_model:
            return None
        return INPAINT_ALIASES.get(self.inpaint_model.lower(), self.inpaint_model)

    @property
    def rembg_session_name(self) -> str | None:
        """The rembg session to build, or None when background removal has no weights.

        A model path takes a ``*_custom`` session (``u2net_custom`` unless another custom
        session is named): a named session such as the default ``u2netp`` ignores paths."""
        if self.rembg_model_path is not None:
            named = self.rembg_model
            return named if named and named.endswith("_custom") else "u2net_custom"
        return self.rembg_model

    @property
    def rembg_folder(self) -> Path:
        """The rembg home in use: the configured one, else the environment's default."""
        return self.rembg_home if self.rembg_home is not None else default_rembg_home()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> AIConfig:
        """Build the settings from environment variables, then apply non-None ``overrides``.
        Unset variables take the deployment defaults (``ENV_DEFAULTS``)."""
        values: dict[str, Any] = dict(ENV_DEFAULTS)
        for field_name, (variables, parse) in _ENV.items():
            for variable in variables:
                raw = environ.get(variable)
                if raw is None or raw.strip() == "":
                    continue
                try:
                    values[field_name] = parse(raw.strip())
                except ValueError:
                    raise AIConfigError(
                        f"{variable} must be {_KIND[parse]}, got {raw!r}", field=field_name
                    ) from None
                break
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise AIConfigError(f"unknown AI settings: {', '.join(sorted(unknown))}")
        try:
            return cls(**values)
        except AIConfigError as exc:
            if exc.field in _ENV and exc.field not in overrides:
                names = "/".join(_ENV[exc.field][0])
                raise AIConfigError(f"{names}: {exc}", field=exc.field) from None
            raise


def parse_size(raw: str) -> int:
    """Bytes from ``"8GiB"``, ``"512MiB"``, ``"1.5G"``, ``"4000000"`` (binary or decimal)."""
    match = _SIZE_RE.match(raw)
    if not match:
        raise ValueError(raw)
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if unit in ("", "b"):
        return int(number)
    base = 1024 if "i" in unit else 1000
    return int(number * base ** ("kmgt".index(unit[0]) + 1))


def _check(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise AIConfigError(f"{name} must be {expected}, got {value!r}", field=name)


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _lower(raw: str) -> str:
    return raw.lower()


def _model_name(raw: str) -> str | None:
    return None if raw.lower() in OFF_WORDS else raw


def _overrides(raw: str) -> tuple[str, ...]:
    # ";" separates overrides because hydra list values contain commas.
    return tuple(part.strip() for part in raw.split(";") if part.strip())


_KIND: dict[Callable[[str], Any], str] = {
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a path",
    _lower: "a string",
    _model_name: "a model name, or none/off",
    _bool: "a boolean (1/0, true/false, yes/no, on/off)",
    parse_size: "a size such as 8GiB, 512MiB or a number of bytes",
    _overrides: "hydra overrides separated by ';'",
}

# What from_env uses for a field whose variables are all unset (AIConfig() keeps no weights).
ENV_DEFAULTS: dict[str, Any] = {"rembg_model": DEFAULT_REMBG_MODEL}

# field -> (variables, first set wins; parser)
_ENV: dict[str, tuple[tuple[str, ...], Callable[[str], Any]]] = {
    "device": (("NEXUS_AI_DEVICE",), _lower),
    "dtype": (("NEXUS_AI_DTYPE",), _lower),
    "vram_budget": (("NEXUS_AI_VRAM_BUDGET",), parse_size),
    "evict_to": (("NEXUS_AI_EVICT_TO",), _lower),
    "allow_download": (("NEXUS_AI_ALLOW_DOWNLOAD",), _bool),
    "inpaint_model": (("NEXUS_INPAINT_MODEL",), str),
    "inpaint_max_side": (("NEXUS_INPAINT_MAX_SIDE",), int),
    "sam2_config": (("NEXUS_SAM2_CONFIG",), str),
    "sam2_checkpoint": (("NEXUS_SAM2_CHECKPOINT",), Path),
    "sam2_overrides": (("NEXUS_SAM2_OVERRIDES",), _overrides),
    "rembg_model": (("NEXUS_REMBG_MODEL",), _model_name),
    "rembg_model_path": (("NEXUS_REMBG_MODEL_PATH",), Path),
    "rembg_home": (("NEXUS_REMBG_HOME", "REMBG_HOME", "U2NET_HOME"), Path),
    "fallback_max_side": (("NEXUS_AI_FALLBACK_MAX_SIDE",), int),
    "grabcut_iterations": (("NEXUS_AI_GRABCUT_ITERATIONS",), int),
    "load_retry_seconds": (("NEXUS_AI_LOAD_RETRY_SECONDS",), float),
}
