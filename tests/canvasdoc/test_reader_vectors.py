"""The shared reader vectors (tests/vectors/document_readers.json) against the Python readers.

The browser app's readers (client/web/src/document/readers.test.ts) are checked against the
same file, so both sides read foreign data alike. How a case's raw values become a Y.Doc:

- ``meta``: each key is set on the root Map ``meta`` (null: the Map stays empty).
- ``layers``: a JSON object item becomes a Map, anything else is appended as a plain value.
  In a layer Map, a ``strokes`` list becomes an Array (object items become Maps) and a
  ``provenance`` object becomes a Map; in a stroke Map, a ``points`` list becomes an Array.
- ``history`` (optional): object items become Maps, others plain values.
- Anywhere: ``{"$plain": x}`` is ``x`` stored as a plain JSON value (no shared type),
  ``{"$map": {...}}`` a Map, ``{"$array": [...]}`` an Array, ``{"$text": "s"}`` a Text, and
  ``{"$num": "NaN" | "Infinity" | "-Infinity"}`` that float. Other values are stored as is.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from canvasdoc.canvas import Canvas

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "document_readers.json"
_NUMBERS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _marker(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), *_ = value.items()
        if key in ("$plain", "$map", "$array", "$text", "$num"):
            return key, inner
    return None


def decode(value: Any) -> Any:
    """A vector value as it is stored: markers resolved, other objects and lists plain."""
    marker = _marker(value)
    if marker is not None:
        key, inner = marker
        if key == "$plain":
            return _plain(inner)
        if key == "$map":
            return Map({k: decode(v) for k, v in inner.items()})
        if key == "$array":
            return Array([decode(v) for v in inner])
        if key == "$text":
            return Text(inner)
        return _NUMBERS[inner]
    return _plain(value)


def _plain(value: Any) -> Any:
    if _marker(value) is not None:
        return decode(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _item(value: Any, build: Any) -> Any:
    """An array item: a JSON object becomes a Map built by ``build``, the rest is decoded."""
    if isinstance(value, dict) and _marker(value) is None:
        return build(value)
    return decode(value)


def _stroke_map(raw: dict[str, Any]) -> Map[Any]:
    content = {k: decode(v) for k, v in raw.items()}
    if isinstance(raw.get("points"), list):
        content["points"] = Array([decode(v) for v in raw["points"]])
    return Map(content)


def _layer_map(raw: dict[str, Any]) -> Map[Any]:
    content = {k: decode(v) for k, v in raw.items()}
    if isinstance(raw.get("strokes"), list):
        content["strokes"] = Array([_item(s, _stroke_map) for s in raw["strokes"]])
    provenance = raw.get("provenance")
    if isinstance(provenance, dict) and _marker(provenance) is None:
        content["provenance"] = Map({k: decode(v) for k, v in provenance.items()})
    return Map(content)


def _history_map(raw: dict[str, Any]) -> Map[Any]:
    return Map({k: decode(v) for k, v in raw.items()})


def build_doc(case: dict[str, Any]) -> Doc[Any]:
    """A pycrdt Doc holding the case's raw meta, layers and history."""
    doc: Doc[Any] = Doc()
    canvas = Canvas(doc)
    with doc.transaction():
        for key, value in (case.get("meta") or {}).items():
            canvas.meta_map[key] = decode(value)
        for raw in case.get("layers") or []:
            canvas.layers_array.append(_item(raw, _layer_map))
        for raw in case.get("history") or []:
            canvas.history_array.append(_item(raw, _history_map))
    return doc


def read_case(case: dict[str, Any]) -> dict[str, Any]:
    """What the Python readers make of a case, as plain JSON values."""
    canvas = Canvas(build_doc(case))
    result = {
        "meta": asdict(canvas.read_meta()),
        "layers": [asdict(layer) for layer in canvas.read_layers()],
    }
    if "history" in case:
        result["history"] = canvas.history()
    # a JSON round trip turns tuples into lists, like the file holds them
    loaded: dict[str, Any] = json.loads(json.dumps(result))
    return loaded


def load_cases() -> list[dict[str, Any]]:
    if not VECTORS.exists():  # while make_reader_vectors.py writes it for the first time
        return []
    cases: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return cases


def test_there_are_enough_cases() -> None:
    cases = load_cases()
    assert len(cases) >= 25
    assert len({case["name"] for case in cases}) == len(cases), "case names must be unique"


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: str(case["name"]))
def test_python_readers_match_vector(case: dict[str, Any]) -> None:
    assert read_case(case) == case["expected"]
