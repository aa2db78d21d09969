"""Validation of canvas values, shared by the document writers and (later) the REST layer.

Every ``validate_*`` function returns the normalised value (numbers as ``float`` or ``int``,
colours in lowercase) or raises :class:`SchemaError`, whose message names the field, the bad
value and what was expected. Readers reuse the same functions through :func:`or_default`, so
"tolerant" means exactly "what a writer would refuse falls back to the default".
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

BLEND_MODES: tuple[str, ...] = (
    "normal",
    "dissolve",
    "darken",
    "multiply",
    "color-burn",
    "linear-burn",
    "darker-color",
    "lighten",
    "screen",
    "color-dodge",
    "linear-dodge",
    "lighter-color",
    "overlay",
    "soft-light",
    "hard-light",
    "vivid-light",
    "linear-light",
    "pin-light",
    "hard-mix",
    "difference",
    "exclusion",
    "subtract",
    "divide",
    "hue",
    "saturation",
    "color",
    "luminosity",
)
LAYER_KINDS: tuple[str, ...] = ("raster", "paint", "group")
STROKE_TOOLS: tuple[str, ...] = ("brush", "eraser")

MAX_DIMENSION = 32768
MAX_DPI = 4800
MAX_ID_LENGTH = 128

_COLOR_RE = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_BLOB_RE = re.compile(r"[0-9a-f]{64}")
_FALLBACK_ID_RE = re.compile(r"anon-[0-9]+")

T = TypeVar("T")


class SchemaError(ValueError):
    """A value does not fit the canvas schema.

    ``field`` names the offending field, ``value`` is the value that was refused.
    """

    def __init__(self, field: str, value: object, expected: str, *, message: str | None = None):
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(message or f"{field} must be {expected}, got {short_repr(value)}")


def short_repr(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut short so a huge point list cannot flood a log line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def or_default(validate: Callable[[Any], T], value: object, default: T) -> T:
    """``validate(value)``, or ``default`` when the value is refused."""
    try:
        return validate(value)
    except SchemaError:
        return default


def is_number(value: object) -> bool:
    # bool is an int subclass, but True is not an opacity.
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: object) -> bool:
    return is_number(value) and math.isfinite(value)  # type: ignore[arg-type]


def validate_number(
    value: object,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_exclusive: bool = False,
) -> float:
    """A finite number (not a bool) within the given bounds, as ``float``."""
    if low is not None and high is not None:
        expected = f"a number from {_fmt(low)} to {_fmt(high)}"
    elif low is not None:
        expected = f"a number {'greater than' if low_exclusive else 'of at least'} {_fmt(low)}"
    else:
        expected = "a finite number"
    number = _as_float(value)
    if number is None or not math.isfinite(number):
        raise SchemaError(field, value, expected)
    if low is not None and (number <= low if low_exclusive else number < low):
        raise SchemaError(field, value, expected)
    if high is not None and number > high:
        raise SchemaError(field, value, expected)
    return number


def validate_int(value: object, field: str, *, low: int, high: int) -> int:
    """An integer within bounds; integral floats (how Yjs stores every number) are accepted."""
    expected = f"an integer from {low} to {high}"
    as_float = _as_float(value)
    if as_float is None or not as_float.is_integer():
        raise SchemaError(field, value, expected)
    number = int(as_float)
    if not low <= number <= high:
        raise SchemaError(field, value, expected)
    return number


def _as_float(value: object) -> float | None:
    """``value`` as a float; None when it is no number or an integer beyond a double's range
    (JSON allows any number of digits: ``float()`` of such an int raises OverflowError)."""
    if not is_number(value):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _validate_choice(value: object, field: str, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    message = f"{field} must be one of {', '.join(choices)}, got {short_repr(value)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), choices, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    raise SchemaError(field, value, f"one of {', '.join(choices)}", message=message)


def validate_blend_mode(value: object) -> str:
    return _validate_choice(value, "blend_mode", BLEND_MODES)


def validate_kind(value: object) -> str:
    return _validate_choice(value, "kind", LAYER_KINDS)


def validate_tool(value: object) -> str:
    return _validate_choice(value, "tool", STROKE_TOOLS)


def validate_opacity(value: object, field: str = "opacity") -> float:
    return validate_number(value, field, low=0, high=100)


def validate_hardness(value: object) -> float:
    return validate_number(value, "hardness", low=0, high=1)


def validate_size(value: object) -> float:
    return validate_number(value, "size", low=0, low_exclusive=True)


def validate_coordinate(value: object, field: str) -> float:
    return validate_number(value, field)


def validate_dimension(value: object, field: str) -> int:
    return validate_int(value, field, low=1, high=MAX_DIMENSION)


def validate_dpi(value: object) -> int:
    return validate_int(value, "dpi", low=1, high=MAX_DPI)


def validate_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(field, value, "true or false")
    return value


def validate_text(value: object, field: str, *, max_length: int = 1000) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise SchemaError(field, value, f"a string of at most {max_length} characters")
    return value


def validate_id(value: object, field: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise SchemaError(field, value, f"a non-empty string of at most {MAX_ID_LENGTH} characters")
    if _FALLBACK_ID_RE.fullmatch(value):
        # Readers give id-less Maps these ids; a stored one would shadow such a layer.
        message = f"{field} {value!r} is reserved: anon-<k> names a layer or stroke without an id"
        raise SchemaError(field, value, "", message=message)
    return value


def validate_color(value: object, field: str = "color") -> str:
    """``#rrggbb`` or ``#rrggbbaa`` (any case in, lowercase out)."""
    if not isinstance(value, str) or not _COLOR_RE.fullmatch(value):
        raise SchemaError(field, value, "a colour '#rrggbb' or '#rrggbbaa'")
    return value.lower()


def validate_background(value: object) -> str:
    if value == "transparent":
        return "transparent"
    try:
        return validate_color(value, "background")
    except SchemaError:
        expected = "a colour '#rrggbb' or '#rrggbbaa', or 'transparent'"
        raise SchemaError("background", value, expected) from None


def validate_blob(value: object) -> str | None:
    """A sha256 digest as 64 lowercase hex characters, or None for "no image yet"."""
    if value is None:
        return None
    if not isinstance(value, str) or not _BLOB_RE.fullmatch(value):
        raise SchemaError("blob", value, "a sha256 digest of 64 lowercase hex characters, or None")
    return value


def validate_points(value: object, field: str = "points") -> list[float]:
    """A flat sequence x, y, x, y, … of finite numbers."""
    expected = "an even number of finite numbers (flat x, y pairs)"
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise SchemaError(field, value, expected)
    if len(value) % 2 or not all(is_finite_number(v) for v in value):
        raise SchemaError(field, value, expected)
    return [float(v) for v in value]


def validate_provenance(value: object) -> dict[str, Any] | None:
    """None, or a dict with string keys and JSON values (job_id, model, prompt, …)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not _is_json(value):
        raise SchemaError("provenance", value, "a dict of JSON values with string keys, or None")
    copied: dict[str, Any] = _copy_json(value)
    return copied


def validate_proposal(value: object) -> dict[str, Any] | None:
    """None (an ordinary layer), or a dict of JSON values with string keys: the layer is a
    staged proposal awaiting review (``job_id``, when present, a non-empty string)."""
    if value is None:
        return None
    expected = "a dict of JSON values with string keys (job_id a non-empty string), or None"
    if not isinstance(value, dict) or not _is_json(value):
        raise SchemaError("proposal", value, expected)
    job_id = value.get("job_id")
    if job_id is not None and not (isinstance(job_id, str) and job_id):
        raise SchemaError("proposal", value, expected)
    copied: dict[str, Any] = _copy_json(value)
    return copied


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(v) for v in value]
    return value
