"""Machine-readable facts about the canvas schema, for clients in other languages.

The browser app (client/web/src/document/schema.json) reads its enums, defaults, ranges and
patterns from this output instead of retyping them, so its readers and writers refuse and
default exactly like ``canvasdoc.canvas``. Every value is taken from ``canvasdoc._validate``,
``canvasdoc.canvas`` (the dataclass defaults, the field validators) and ``canvasdoc.ids``; the
numeric bounds are read from the validators' own error texts, so a changed bound shows up here.

Regenerate the JSON after a schema change (a test fails until it is current)::

    python -m canvasdoc.facts
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from canvasdoc import _validate as validate
from canvasdoc import canvas, ids

__all__ = ["OUTPUT", "facts", "main", "render"]

OUTPUT = Path(__file__).resolve().parent.parent / "client/web/src/document/schema.json"
COMMAND = "python -m canvasdoc.facts"

_RANGE = re.compile(r"an? (?:number|integer) from (-?[0-9.]+) to (-?[0-9.]+)")
_ABOVE = re.compile(r"a number greater than (-?[0-9.]+)")
_LENGTH = re.compile(r"a string of at most ([0-9]+) characters")


def _expected(check: Callable[[Any], object]) -> str:
    """The ``expected`` text of the SchemaError a validator raises for a refused value."""
    try:
        check(object())
    except validate.SchemaError as error:
        return error.expected
    raise AssertionError(f"{check!r} accepted an arbitrary object")


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _range(check: Callable[[Any], object]) -> dict[str, int | float]:
    expected = _expected(check)
    if found := _RANGE.fullmatch(expected):
        return {"min": _number(found[1]), "max": _number(found[2])}
    if found := _ABOVE.fullmatch(expected):
        return {"min_exclusive": _number(found[1])}
    raise AssertionError(f"cannot read a range from {expected!r}")


def _max_length(check: Callable[[Any], object]) -> int:
    found = _LENGTH.fullmatch(_expected(check))
    if found is None:
        raise AssertionError(f"cannot read a length from {_expected(check)!r}")
    return int(found[1])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def facts() -> dict[str, Any]:
    """Enums, defaults, ranges and patterns of the canvas schema (plain JSON values)."""
    layer_defaults = asdict(canvas.Layer(id=""))
    stroke_defaults = asdict(canvas.Stroke(id=""))
    del layer_defaults["id"], stroke_defaults["id"]
    meta_fields = canvas._META_FIELDS
    layer_fields = canvas._LAYER_FIELDS
    stroke_fields = canvas._STROKE_FIELDS
    return {
        "blend_modes": list(validate.BLEND_MODES),
        "layer_kinds": list(validate.LAYER_KINDS),
        "stroke_tools": list(validate.STROKE_TOOLS),
        "defaults": {
            "meta": _plain(asdict(canvas.CanvasMeta())),
            "layer": _plain(layer_defaults),
            "stroke": _plain(stroke_defaults),
        },
        "ranges": {
            "opacity": _range(layer_fields["opacity"]),
            "stroke_opacity": _range(stroke_fields["opacity"]),
            "hardness": _range(stroke_fields["hardness"]),
            "size": _range(stroke_fields["size"]),
            "width": _range(meta_fields["width"]),
            "height": _range(meta_fields["height"]),
            "dpi": _range(meta_fields["dpi"]),
        },
        "lengths": {
            "id": validate.MAX_ID_LENGTH,
            "name": _max_length(meta_fields["name"]),
            "layer_name": _max_length(layer_fields["name"]),
            "color_profile": _max_length(meta_fields["color_profile"]),
        },
        # Python regular expressions that must match the whole value (re.fullmatch).
        "patterns": {
            "color": validate._COLOR_RE.pattern,
            "blob": validate._BLOB_RE.pattern,
            "fallback_id": validate._FALLBACK_ID_RE.pattern,
            "user_id": ids.USER_ID.pattern,
            "doc_id": ids.DOC_ID.pattern,
        },
    }


def render() -> str:
    """The JSON text written to :data:`OUTPUT`."""
    return json.dumps(facts(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
