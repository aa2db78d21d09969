"""Hypothesis strategies for the fuzz suites: what a foreign Yjs client could write into a
canvas document, and the edits it could make.

Shared values are generated as plain descriptions (``YMap``, ``YArray``, ``YText``) and only
turned into pycrdt objects when an edit is applied, so examples shrink and print readably and
a drawn value is never integrated twice. Strategy factories are cached: building these
recursive strategies costs far more than drawing from them.
"""

from __future__ import annotations

import json
import math
import re
import string
from dataclasses import dataclass
from functools import cache
from typing import Any

import hypothesis.core
from hypothesis import strategies as st
from hypothesis.vendor import pretty
from pycrdt import Array, Doc, Map, Text

from canvasdoc._validate import MAX_DIMENSION, MAX_DPI, MAX_ID_LENGTH
from canvasdoc.canvas import (
    BLEND_MODES,
    LAYER_KINDS,
    STROKE_TOOLS,
    Canvas,
    CanvasMeta,
    Layer,
    _clone,
)

# schemathesis's pytest plugin, loaded into every session, swaps Hypothesis's example printer
# for a no-op (a speed-up for huge schemas): a failing test would print `changes=,` instead
# of the example. Put it back (the API description here is small).
hypothesis.core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[misc]

# Settings shared by every fuzz test: fixed seed (derandomize), bounded examples, no deadline
# (the first example pays for imports and a cold pycrdt).
FUZZ = {"derandomize": True, "deadline": None, "database": None}

META_KEYS = ("name", "width", "height", "dpi", "color_profile", "background")
LAYER_KEYS = (
    "id", "name", "kind", "blend_mode", "opacity", "visible", "locked", "x", "y", "blob",
    "strokes", "provenance",
)  # fmt: skip
STROKE_KEYS = ("id", "tool", "color", "size", "hardness", "opacity", "points")

# pycrdt stores integers as i64; a foreign (JavaScript) client writes doubles or BigInts
# within that range too.
_INT64 = st.integers(-(2**63), 2**63 - 1)
IDENTIFIER = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)


@dataclass(frozen=True)
class YMap:
    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class YArray:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class YText:
    text: str


def to_shared(value: Any) -> Any:
    """The value as pycrdt will take it: descriptions become preliminary shared types."""
    if isinstance(value, YMap):
        return Map({key: to_shared(item) for key, item in value.items})
    if isinstance(value, YArray):
        return Array([to_shared(item) for item in value.items])
    if isinstance(value, YText):
        return Text(value.text)
    if isinstance(value, dict):
        return {key: to_shared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_shared(item) for item in value]
    return value


@cache
def _interesting_scalars() -> st.SearchStrategy[Any]:
    """Values near the schema's edges: valid ones, out-of-range ones, wrong types."""
    return st.sampled_from(
        [
            0, 1, -1, 0.5, 100, 100.5, 101, -0.0, 1e308, -1e308, 32768, 32769, 4800, 4801,
            float("nan"), float("inf"), float("-inf"), True, False, None, "", "normal",
            "multiply", "Multiply", "raster", "paint", "group", "brush", "eraser", "#ff0000",
            "#FF000080", "#fff", "transparent", "sRGB", "a" * 64, "0" * 64, "A" * 64,
            "x" * 1001, "anon-0", b"\x00\xff",
        ]
    )  # fmt: skip


@cache
def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        _interesting_scalars(),
        st.none(),
        st.booleans(),
        _INT64,
        st.floats(),
        st.text(max_size=20),
        st.binary(max_size=8),
        st.sampled_from(BLEND_MODES + LAYER_KINDS + STROKE_TOOLS),
    )


@cache
def plain_values() -> st.SearchStrategy[Any]:
    """JSON-like values (pycrdt's ``Any``): scalars, lists and string-keyed dicts."""
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=12,
    )


@cache
def foreign_values(keys: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Plain values and nested shared types, with keys biased towards ``keys``."""
    key = st.one_of(st.sampled_from(keys), st.text(max_size=8)) if keys else st.text(max_size=8)
    return st.recursive(
        st.one_of(plain_values(), st.text(max_size=12).map(YText)),
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(lambda items: YArray(tuple(items))),
            st.dictionaries(key, children, max_size=5).map(
                lambda items: YMap(tuple(items.items()))
            ),
        ),
        max_leaves=16,
    )


_LAYER_IDS = st.one_of(st.sampled_from(["a", "b", "c", "anon-0", "", "x" * 129]), IDENTIFIER)


def _mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """``common`` four times in five (``one_of`` alone would pick each branch equally)."""
    return st.integers(0, 4).flatmap(lambda k: rare if k == 0 else common)


def _valid_or_not(valid: st.SearchStrategy[Any], keys: tuple[str, ...] = ()) -> Any:
    return _mostly(valid, st.one_of(scalars(), foreign_values(keys)))


@cache
def _numbers() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(-10, 200), st.floats(-1e6, 1e6), st.floats())


@cache
def stroke_like() -> st.SearchStrategy[Any]:
    """Mostly Maps shaped like strokes, with valid and invalid field values mixed."""
    point_values = st.lists(st.one_of(_numbers(), scalars()), max_size=8)
    fields = {
        "id": _LAYER_IDS,
        "tool": _valid_or_not(st.sampled_from(STROKE_TOOLS)),
        "color": _valid_or_not(st.sampled_from(["#000000", "#ABCDEF", "#12345678"])),
        "size": _valid_or_not(_numbers()),
        "hardness": _valid_or_not(st.floats(0, 1)),
        "opacity": _valid_or_not(_numbers()),
        "points": st.one_of(point_values.map(lambda p: YArray(tuple(p))), point_values, scalars()),
    }
    shaped = st.fixed_dictionaries({}, optional=fields).map(lambda d: YMap(tuple(d.items())))
    return _mostly(shaped, st.one_of(foreign_values(STROKE_KEYS), scalars()))


@cache
def layer_like() -> st.SearchStrategy[Any]:
    """Mostly Maps shaped like layers (ids from a small pool, so duplicates happen)."""
    fields = {
        "id": _LAYER_IDS,
        "name": _valid_or_not(st.text(max_size=10)),
        "kind": _valid_or_not(st.sampled_from(LAYER_KINDS)),
        "blend_mode": _valid_or_not(st.sampled_from(BLEND_MODES)),
        "opacity": _valid_or_not(_numbers()),
        "visible": _valid_or_not(st.booleans()),
        "locked": _valid_or_not(st.booleans()),
        "x": _valid_or_not(_numbers()),
        "y": _valid_or_not(_numbers()),
        "blob": _valid_or_not(st.sampled_from(["a" * 64, "0123456789abcdef" * 4, None])),
        "strokes": st.one_of(
            st.lists(stroke_like(), max_size=3).map(lambda s: YArray(tuple(s))), scalars()
        ),
        "provenance": _valid_or_not(
            st.dictionaries(st.text(max_size=5), plain_values(), max_size=3), LAYER_KEYS
        ),
    }
    extra = st.dictionaries(st.text(max_size=6), foreign_values(), max_size=2)
    shaped = st.tuples(st.fixed_dictionaries({}, optional=fields), extra).map(
        lambda t: YMap(tuple({**t[1], **t[0]}.items()))
    )
    return _mostly(shaped, st.one_of(foreign_values(LAYER_KEYS), scalars()))


# -- edits ------------------------------------------------------------------------------------
# An edit is a tuple naming what to do; indexes are taken modulo the current length, so any
# drawn edit applies to any document.


@cache
def edits() -> st.SearchStrategy[tuple[Any, ...]]:
    index = st.integers(0, 50)
    any_value = st.one_of(scalars(), foreign_values())
    return st.one_of(
        st.tuples(st.just("meta_set"), st.one_of(st.sampled_from(META_KEYS), st.text(max_size=6)),
                  st.one_of(scalars(), _numbers(), foreign_values(META_KEYS))),
        st.tuples(st.just("meta_del"), st.sampled_from(META_KEYS)),
        st.tuples(st.just("insert"), st.just("layers"), index, layer_like()),
        st.tuples(st.just("insert"), st.sampled_from(("strokes", "history")), index,
                  st.one_of(stroke_like(), any_value)),
        st.tuples(st.just("delete"), st.sampled_from(("layers", "strokes", "history")), index,
                  st.integers(1, 3)),
        st.tuples(st.just("layer_set"), index, st.sampled_from(LAYER_KEYS),
                  st.one_of(scalars(), _numbers(), _LAYER_IDS, foreign_values(LAYER_KEYS),
                            st.lists(stroke_like(), max_size=2).map(lambda s: YArray(tuple(s))))),
        st.tuples(st.just("layer_del"), index, st.sampled_from(LAYER_KEYS)),
        st.tuples(st.just("stroke_add"), index, stroke_like()),
        st.tuples(st.just("stroke_set"), index, index, st.sampled_from(STROKE_KEYS),
                  st.one_of(scalars(), _numbers(), foreign_values(STROKE_KEYS))),
        st.tuples(st.just("points"), index, index,
                  st.lists(st.one_of(_numbers(), scalars()), max_size=6)),
        st.tuples(st.just("move"), index, index),
    )  # fmt: skip


@cache
def foreign_edits(max_edits: int = 10) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """A few layers to start with (so edits have something to land on), then edits."""
    initial = st.lists(layer_like(), max_size=4).map(
        lambda layers: [("insert", "layers", i, layer) for i, layer in enumerate(layers)]
    )
    return st.tuples(initial, st.lists(edits(), max_size=max_edits)).map(lambda t: [*t[0], *t[1]])


def _pick(array: Array[Any], index: int) -> Any:
    return array[index % len(array)] if len(array) else None


def apply_edit(doc: Doc[Any], edit: tuple[Any, ...]) -> None:
    """Apply one edit in one transaction, as a foreign client would (no validation)."""
    meta = doc.get("meta", type=Map)
    roots: dict[str, Array[Any]] = {
        name: doc.get(name, type=Array) for name in ("layers", "strokes", "history")
    }
    layers = roots["layers"]
    kind, *args = edit
    with doc.transaction(origin="foreign"):
        if kind == "meta_set":
            meta[args[0]] = to_shared(args[1])
        elif kind == "meta_del":
            meta.pop(args[0], None)
        elif kind == "insert":
            target = roots[args[0]]
            target.insert(args[1] % (len(target) + 1), to_shared(args[2]))
        elif kind == "delete":
            target = roots[args[0]]
            if len(target):
                start = args[1] % len(target)
                del target[start : min(len(target), start + args[2])]
        elif kind in ("layer_set", "layer_del", "stroke_add", "stroke_set", "points"):
            layer = _pick(layers, args[0])
            if not isinstance(layer, Map):
                return
            if kind == "layer_set":
                layer[args[1]] = to_shared(args[2])
            elif kind == "layer_del":
                layer.pop(args[1], None)
            else:
                _edit_strokes(layer, kind, args[1:])
        elif kind == "move" and len(layers):
            # What canvas.move_layer does, but without looking at ids: delete + reinsert a copy.
            src = args[0] % len(layers)
            copy = _clone(layers[src])  # the same deep copy the server's writers make
            del layers[src]
            layers.insert(args[1] % (len(layers) + 1), copy)


def _edit_strokes(layer: Map[Any], kind: str, args: list[Any]) -> None:
    strokes = layer.get("strokes")
    if kind == "stroke_add":
        if isinstance(strokes, Array):
            strokes.append(to_shared(args[0]))
        else:
            layer["strokes"] = Array([to_shared(args[0])])
        return
    if not isinstance(strokes, Array):
        return
    stroke = _pick(strokes, args[0])
    if not isinstance(stroke, Map):
        return
    if kind == "stroke_set":
        stroke[args[1]] = to_shared(args[2])
    else:
        points = stroke.get("points")
        if isinstance(points, Array):
            points.extend([to_shared(v) for v in args[1]])
        else:
            stroke["points"] = Array([to_shared(v) for v in args[1]])


def update_from(edits_: list[tuple[Any, ...]], *, client_id: int = 7) -> bytes:
    """The update a foreign client with ``client_id`` sends after making ``edits_``."""
    doc: Doc[Any] = Doc(client_id=client_id)
    for edit in edits_:
        apply_edit(doc, edit)
    return doc.get_update()


# -- checks -----------------------------------------------------------------------------------

_COLOR = re.compile(r"#[0-9a-f]{6}([0-9a-f]{2})?")
_BLOB = re.compile(r"[0-9a-f]{64}")


def _finite(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _assert_meta(meta: CanvasMeta) -> None:
    assert isinstance(meta.name, str) and len(meta.name) <= 1000
    for dim in (meta.width, meta.height):
        assert type(dim) is int and 1 <= dim <= MAX_DIMENSION
    assert type(meta.dpi) is int and 1 <= meta.dpi <= MAX_DPI
    assert isinstance(meta.color_profile, str) and len(meta.color_profile) <= 200
    assert meta.background == "transparent" or _COLOR.fullmatch(meta.background)


def _assert_layer(layer: Layer) -> None:
    assert isinstance(layer.id, str) and 1 <= len(layer.id) <= MAX_ID_LENGTH
    assert isinstance(layer.name, str) and len(layer.name) <= 1000
    assert layer.kind in LAYER_KINDS
    assert layer.blend_mode in BLEND_MODES
    assert _finite(layer.opacity) and 0 <= layer.opacity <= 100
    assert type(layer.visible) is bool and type(layer.locked) is bool
    assert _finite(layer.x) and _finite(layer.y)
    assert layer.blob is None or _BLOB.fullmatch(layer.blob)
    assert layer.provenance is None or isinstance(layer.provenance, dict)
    json.dumps(layer.provenance, allow_nan=False)
    assert len({s.id for s in layer.strokes}) == len(layer.strokes)
    for stroke in layer.strokes:
        assert isinstance(stroke.id, str) and 1 <= len(stroke.id) <= MAX_ID_LENGTH
        assert stroke.tool in STROKE_TOOLS
        assert _COLOR.fullmatch(stroke.color)
        assert _finite(stroke.size) and stroke.size > 0
        assert _finite(stroke.hardness) and 0 <= stroke.hardness <= 1
        assert _finite(stroke.opacity) and 0 <= stroke.opacity <= 100
        assert len(stroke.points) % 2 == 0 and all(_finite(p) for p in stroke.points)


def assert_readable(canvas: Canvas) -> None:
    """Every reader answers, within the schema's bounds, and the plain views are JSON."""
    _assert_meta(canvas.read_meta())
    layers = canvas.read_layers()
    ids = canvas.layer_ids()
    assert ids == [layer.id for layer in layers]
    assert len(set(ids)) == len(ids)
    for layer in layers:
        _assert_layer(layer)
        assert canvas.get_layer(layer.id) == layer
    history = canvas.history()
    assert all(isinstance(entry, dict) for entry in history)
    view = canvas.to_dict()
    json.dumps(view, allow_nan=False)
    assert [layer["id"] for layer in view["layers"]] == ids
    json.dumps(canvas.content(), allow_nan=False)
