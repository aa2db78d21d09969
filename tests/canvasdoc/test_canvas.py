"""Tests for the canvas document schema (canvasdoc/canvas.py)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from canvasdoc.canvas import (
    BLEND_MODES,
    LAYER_KINDS,
    STROKE_TOOLS,
    Canvas,
    CanvasMeta,
    Layer,
    LayerNotFound,
    SchemaError,
    Stroke,
    StrokeNotFound,
    validate_blend_mode,
    validate_color,
    validate_int,
    validate_number,
    validate_opacity,
)

BLOB = "0123456789abcdef" * 4


def sync(a: Doc[Any], b: Doc[Any]) -> None:
    b.apply_update(a.get_update(b.get_state()))
    a.apply_update(b.get_update(a.get_state()))


def replica_of(canvas: Canvas) -> Canvas:
    doc: Doc[Any] = Doc()
    doc.apply_update(canvas.doc.get_update())
    return Canvas(doc)


@pytest.fixture
def canvas() -> Canvas:
    c = Canvas(Doc())
    c.init(name="Poster")
    return c


def raw_layer(canvas: Canvas, layer_id: str) -> Map[Any]:
    for item in canvas.layers_array:
        if isinstance(item, Map) and item.get("id") == layer_id:
            return item
    raise AssertionError(layer_id)


def count_updates(doc: Doc[Any]) -> list[bytes]:
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    return updates


# -- constants and helpers ------------------------------------------------------------------


def test_constants() -> None:
    assert len(BLEND_MODES) == 27
    assert BLEND_MODES[:4] == ("normal", "dissolve", "darken", "multiply")
    assert BLEND_MODES[-4:] == ("hue", "saturation", "color", "luminosity")
    assert len(set(BLEND_MODES)) == 27
    assert LAYER_KINDS == ("raster", "paint", "group")
    assert STROKE_TOOLS == ("brush", "eraser")


def test_validation_helpers_normalise() -> None:
    assert validate_opacity(40) == 40.0
    assert validate_color("#AABBCC") == "#aabbcc"
    assert validate_color("#aabbcc80") == "#aabbcc80"
    assert validate_blend_mode("color-dodge") == "color-dodge"


@pytest.mark.parametrize(
    ("call", "field", "fragments"),
    [
        (
            lambda: validate_opacity(140),
            "opacity",
            ["opacity must be a number from 0 to 100", "140"],
        ),
        (lambda: validate_opacity(True), "opacity", ["got True"]),
        (lambda: validate_opacity(float("nan")), "opacity", ["got nan"]),
        (lambda: validate_opacity("50"), "opacity", ["got '50'"]),
        (lambda: validate_color("red"), "color", ["'#rrggbb'", "got 'red'"]),
        (lambda: validate_color("#abc"), "color", ["got '#abc'"]),
        (
            lambda: validate_blend_mode("multiplyy"),
            "blend_mode",
            ["blend_mode must be one of normal, dissolve,", "luminosity", "got 'multiplyy'"],
        ),
    ],
)
def test_validation_helpers_name_the_value(call: Any, field: str, fragments: list[str]) -> None:
    with pytest.raises(SchemaError) as info:
        call()
    assert info.value.field == field
    for fragment in fragments:
        assert fragment in str(info.value)


def test_schema_error_is_value_error_and_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'multiply'"):
        validate_blend_mode("multiplyy")
    err = SchemaError("opacity", 140, "a number from 0 to 100")
    assert (err.field, err.value) == ("opacity", 140)
    assert str(err) == "opacity must be a number from 0 to 100, got 140"


@pytest.mark.parametrize("low", [0, None])
def test_integers_beyond_a_double_are_schema_errors_not_overflows(low: int | None) -> None:
    """JSON allows any number of digits; float() of such an int raises OverflowError, which
    must not escape as a 500 from a REST route."""
    huge = 10**400
    with pytest.raises(SchemaError, match="opacity must be"):
        validate_number(huge, "opacity", low=low, high=1 if low is not None else None)
    with pytest.raises(SchemaError, match="index must be an integer from 0 to 3"):
        validate_int(huge, "index", low=0, high=3)


def test_long_values_are_cut_short_in_messages(canvas: Canvas) -> None:
    canvas.add_layer("p", kind="paint", layer_id="p")
    with pytest.raises(SchemaError) as info:
        canvas.begin_stroke("p", points=list(range(10_001)))
    assert len(str(info.value)) < 300
    assert len(info.value.value) == 10_001  # type: ignore[arg-type]


# -- meta -------------------------------------------------------------------------------------


def test_empty_doc_reads_defaults() -> None:
    c = Canvas(Doc())
    assert c.read_meta() == CanvasMeta()
    assert c.read_layers() == []
    assert c.history() == []
    assert c.layer_ids() == []


def test_init_and_read_meta(canvas: Canvas) -> None:
    canvas.init(name="A", width=800, height=600, dpi=300, color_profile="Display P3")
    meta = canvas.read_meta()
    assert meta == CanvasMeta("A", 800, 600, 300, "Display P3", "#ffffff")
    assert isinstance(meta.width, int) and isinstance(meta.dpi, int)
    assert canvas.meta_map["width"] == 800.0  # Yjs numbers come back as floats


def test_set_meta(canvas: Canvas) -> None:
    canvas.set_meta(background="transparent", width=2048.0)
    meta = canvas.read_meta()
    assert (meta.background, meta.width, meta.name) == ("transparent", 2048, "Poster")
    canvas.set_meta(background="#FF000080")
    assert canvas.read_meta().background == "#ff000080"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"width": 0}, "width must be an integer from 1 to 32768, got 0"),
        ({"height": 40000}, "height must be an integer from 1 to 32768, got 40000"),
        ({"width": 10.5}, "got 10.5"),
        ({"width": True}, "got True"),
        ({"dpi": 5000}, "dpi must be an integer from 1 to 4800, got 5000"),
        ({"background": "white"}, "or 'transparent', got 'white'"),
        ({"name": 3}, "name must be a string"),
        ({"colour": "x"}, "unknown meta field 'colour'; expected some of name, width"),
        ({"a": 1, "b": 2}, "unknown meta fields 'a', 'b'"),
    ],
)
def test_set_meta_rejects(canvas: Canvas, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        canvas.set_meta(**fields)
    assert message in str(info.value)
    assert canvas.read_meta().name == "Poster"


def test_init_validates(canvas: Canvas) -> None:
    with pytest.raises(SchemaError, match="got -5"):
        canvas.init(width=-5)


# -- layers: writers ---------------------------------------------------------------------------


def test_add_layer_defaults_and_order(canvas: Canvas) -> None:
    a = canvas.add_layer("A")
    assert len(a) == 32 and int(a, 16) >= 0
    b = canvas.add_layer("B")
    c = canvas.add_layer("C", index=0)
    d = canvas.add_layer("D", index=2)
    assert canvas.layer_ids() == [c, a, d, b]
    assert canvas.get_layer(a) == Layer(id=a, name="A")
    raw = raw_layer(canvas, a).to_py()
    assert raw is not None and "blob" in raw and raw["blob"] is None


def test_add_layer_all_fields(canvas: Canvas) -> None:
    prov = {"job_id": "j1", "model": "sdxl-inpaint", "prompt": "a cat", "params": {"steps": 30}}
    lid = canvas.add_layer(
        "AI",
        blend_mode="screen",
        opacity=55.5,
        visible=False,
        locked=True,
        x=-10,
        y=20.5,
        blob=BLOB,
        provenance=prov,
        layer_id="ai-1",
    )
    assert lid == "ai-1"
    layer = canvas.get_layer("ai-1")
    assert layer == Layer(
        "ai-1", "AI", "raster", "screen", 55.5, False, True, -10.0, 20.5, BLOB, (), layer.provenance
    )
    assert layer.provenance == {
        "job_id": "j1",
        "model": "sdxl-inpaint",
        "prompt": "a cat",
        "params": {"steps": 30.0},
    }
    assert isinstance(raw_layer(canvas, "ai-1")["provenance"], Map)
    hash(layer)  # provenance is excluded from the hash, so layers stay hashable


def test_add_paint_and_group_layers(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    g = canvas.add_layer("G", kind="group")
    assert isinstance(raw_layer(canvas, p)["strokes"], Array)
    assert "blob" not in raw_layer(canvas, p)
    assert "strokes" not in raw_layer(canvas, g)
    assert [layer.kind for layer in canvas.read_layers()] == ["paint", "group"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"opacity": 140}, "opacity", "opacity must be a number from 0 to 100, got 140"),
        ({"opacity": True}, "opacity", "got True"),
        ({"opacity": -1}, "opacity", "got -1"),
        ({"blend_mode": "multiplyy"}, "blend_mode", "got 'multiplyy'"),
        ({"kind": "vector"}, "kind", "kind must be one of raster, paint, group, got 'vector'"),
        ({"visible": 1}, "visible", "visible must be true or false, got 1"),
        ({"locked": "no"}, "locked", "got 'no'"),
        ({"x": float("inf")}, "x", "x must be a finite number, got inf"),
        ({"y": None}, "y", "got None"),
        ({"blob": "ABC"}, "blob", "64 lowercase hex characters, or None, got 'ABC'"),
        ({"blob": BLOB.upper()}, "blob", BLOB.upper()),
        ({"blob": BLOB, "kind": "paint"}, "blob", "blob is only for raster layers"),
        ({"provenance": {1: "x"}}, "provenance", "provenance must be a dict"),
        ({"provenance": {"s": {1, 2}}}, "provenance", "got {'s': {1, 2}}"),
        ({"provenance": "job"}, "provenance", "got 'job'"),
        ({"layer_id": ""}, "layer_id", "layer_id must be a non-empty string"),
        ({"layer_id": 7}, "layer_id", "got 7"),
        ({"index": 5}, "index", "index must be an integer from 0 to 1, got 5"),
        ({"index": -1}, "index", "got -1"),
    ],
)
def test_add_layer_rejects(
    canvas: Canvas, kwargs: dict[str, Any], field: str, message: str
) -> None:
    canvas.add_layer("existing")
    with pytest.raises(SchemaError) as info:
        canvas.add_layer("L", **kwargs)
    assert info.value.field == field
    assert message in str(info.value)
    assert len(canvas.read_layers()) == 1


def test_add_layer_rejects_name_and_duplicate_id(canvas: Canvas) -> None:
    with pytest.raises(SchemaError, match=r"name must be a string .* got 12"):
        canvas.add_layer(12)  # type: ignore[arg-type]
    canvas.add_layer("A", layer_id="same")
    with pytest.raises(SchemaError, match="layer_id 'same' is already in use"):
        canvas.add_layer("B", layer_id="same")


def test_remove_layer(canvas: Canvas) -> None:
    a = canvas.add_layer("A")
    b = canvas.add_layer("B")
    canvas.remove_layer(a)
    assert canvas.layer_ids() == [b]
    with pytest.raises(LayerNotFound) as info:
        canvas.remove_layer(a)
    assert isinstance(info.value, KeyError)
    assert str(info.value) == f"no layer with id {a!r}"
    assert info.value.layer_id == a


def test_move_layer_every_position(canvas: Canvas) -> None:
    ids = [canvas.add_layer(name, layer_id=name) for name in "ABCD"]
    for target in range(4):
        for lid in ids:
            canvas.move_layer(lid, target)
            assert canvas.layer_ids().index(lid) == target
            assert sorted(canvas.layer_ids()) == ids
    canvas.move_layer("A", 3)
    canvas.move_layer("D", 0)
    assert canvas.layer_ids()[0] == "D" and canvas.layer_ids()[3] == "A"


def test_move_layer_deep_copies(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint", opacity=30, provenance={"job_id": "j"})
    canvas.add_layer("top")
    s = canvas.begin_stroke(p, color="#ff0000", points=[1, 2])
    canvas.append_points(p, s, [3, 4])
    before = canvas.get_layer(p)
    canvas.move_layer(p, 1)
    assert canvas.layer_ids()[1] == p
    assert canvas.get_layer(p) == before
    assert canvas.get_layer(p).provenance == {"job_id": "j"}
    assert isinstance(raw_layer(canvas, p)["strokes"], Array)
    canvas.append_points(p, s, [5, 6])  # the copied points are still a live Array
    assert canvas.get_layer(p).strokes[0].points == (1, 2, 3, 4, 5, 6)


def test_move_layer_same_place_writes_nothing(canvas: Canvas) -> None:
    a = canvas.add_layer("A")
    canvas.add_layer("B")
    updates = count_updates(canvas.doc)
    canvas.move_layer(a, 0)
    assert updates == []


def test_move_layer_errors(canvas: Canvas) -> None:
    a = canvas.add_layer("A")
    canvas.add_layer("B")
    with pytest.raises(SchemaError, match="new_index must be an integer from 0 to 1, got 2"):
        canvas.move_layer(a, 2)
    with pytest.raises(LayerNotFound, match="nope"):
        canvas.move_layer("nope", 0)


def test_update_layer(canvas: Canvas) -> None:
    a = canvas.add_layer("A", provenance={"job_id": "1"})
    canvas.update_layer(a, name="A2", opacity=10, blend_mode="overlay", visible=False, x=5)
    canvas.update_layer(a, blob=BLOB, locked=True, y=-1.5)
    layer = canvas.get_layer(a)
    assert (layer.name, layer.opacity, layer.blend_mode, layer.visible) == (
        "A2",
        10,
        "overlay",
        False,
    )
    assert (layer.blob, layer.locked, layer.x, layer.y) == (BLOB, True, 5.0, -1.5)
    canvas.update_layer(a, provenance={"job_id": "2"})
    assert canvas.get_layer(a).provenance == {"job_id": "2"}
    canvas.update_layer(a, provenance=None, blob=None)
    assert canvas.get_layer(a).provenance is None and canvas.get_layer(a).blob is None
    assert "provenance" not in raw_layer(canvas, a)
    raw_layer(canvas, a)["provenance"] = {"job_id": "3"}  # a plain JSON object reads too
    assert canvas.get_layer(a).provenance == {"job_id": "3"}


def test_update_layer_is_one_transaction(canvas: Canvas) -> None:
    a = canvas.add_layer("A")
    updates = count_updates(canvas.doc)
    canvas.update_layer(a, opacity=1, x=2, y=3)
    assert len(updates) == 1


@pytest.mark.parametrize(
    ("props", "field", "message"),
    [
        ({"colour": 1}, "colour", "unknown layer property 'colour'; expected some of name,"),
        ({"zz": 1, "aa": 2}, "aa, zz", "unknown layer properties 'aa', 'zz'"),
        ({"id": "x"}, "id", "id cannot be changed, got 'x'"),
        ({"kind": "paint"}, "kind", "kind cannot be changed, got 'paint'"),
        ({"opacity": 101}, "opacity", "got 101"),
        ({"blend_mode": "Normal"}, "blend_mode", "got 'Normal'"),
    ],
)
def test_update_layer_rejects(
    canvas: Canvas, props: dict[str, Any], field: str, message: str
) -> None:
    a = canvas.add_layer("A", opacity=50)
    with pytest.raises(SchemaError) as info:
        canvas.update_layer(a, **props)
    assert info.value.field == field
    assert message in str(info.value)
    assert canvas.get_layer(a).opacity == 50


def test_update_layer_blob_only_on_raster(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    with pytest.raises(SchemaError, match="blob is only for raster layers, got a paint layer"):
        canvas.update_layer(p, blob=BLOB)
    with pytest.raises(LayerNotFound):
        canvas.update_layer("missing", name="x")


# -- strokes -----------------------------------------------------------------------------------


def test_strokes(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    s1 = canvas.begin_stroke(p, points=(10, 20))
    s2 = canvas.begin_stroke(
        p, tool="eraser", color="#00FF0080", size=2.5, hardness=0.25, opacity=40, stroke_id="s2"
    )
    assert s2 == "s2"
    canvas.append_points(p, s1, [30, 40.5])
    canvas.append_points(p, s2, [1, 1])
    canvas.append_points(p, s2, [])
    strokes = canvas.get_layer(p).strokes
    assert strokes == (
        Stroke(s1, "brush", "#000000", 8.0, 1.0, 100.0, (10.0, 20.0, 30.0, 40.5)),
        Stroke("s2", "eraser", "#00ff0080", 2.5, 0.25, 40.0, (1.0, 1.0)),
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"tool": "pen"}, "tool", "tool must be one of brush, eraser, got 'pen'"),
        ({"color": "#12345"}, "color", "got '#12345'"),
        ({"size": 0}, "size", "size must be a number greater than 0, got 0"),
        ({"hardness": 1.5}, "hardness", "hardness must be a number from 0 to 1, got 1.5"),
        ({"opacity": 200}, "opacity", "got 200"),
        ({"points": [1, 2, 3]}, "points", "even number of finite numbers"),
        ({"points": [1, float("nan")]}, "points", "got [1, nan]"),
        ({"points": [True, 1]}, "points", "got [True, 1]"),
        ({"points": "12"}, "points", "got '12'"),
        ({"stroke_id": ""}, "stroke_id", "stroke_id must be a non-empty string"),
    ],
)
def test_begin_stroke_rejects(
    canvas: Canvas, kwargs: dict[str, Any], field: str, message: str
) -> None:
    p = canvas.add_layer("P", kind="paint")
    with pytest.raises(SchemaError) as info:
        canvas.begin_stroke(p, **kwargs)
    assert info.value.field == field
    assert message in str(info.value)
    assert canvas.get_layer(p).strokes == ()


def test_begin_stroke_needs_paint_layer(canvas: Canvas) -> None:
    r = canvas.add_layer("R")
    with pytest.raises(SchemaError, match="only be drawn on paint layers, got a raster layer"):
        canvas.begin_stroke(r)
    with pytest.raises(LayerNotFound):
        canvas.begin_stroke("missing")
    p = canvas.add_layer("P", kind="paint")
    canvas.begin_stroke(p, stroke_id="s")
    with pytest.raises(SchemaError, match="stroke_id 's' is already in use"):
        canvas.begin_stroke(p, stroke_id="s")


def test_append_points_errors(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    s = canvas.begin_stroke(p)
    with pytest.raises(StrokeNotFound) as info:
        canvas.append_points(p, "nope", [1, 2])
    assert isinstance(info.value, KeyError)
    assert str(info.value) == f"no stroke with id 'nope' on layer {p!r}"
    with pytest.raises(SchemaError, match=r"got \[1\]"):
        canvas.append_points(p, s, [1])
    with pytest.raises(SchemaError, match="got"):
        canvas.append_points(p, s, [1, math.inf])
    with pytest.raises(LayerNotFound):
        canvas.append_points("nope", s, [1, 2])
    raw_stroke = raw_layer(canvas, p)["strokes"][0]
    raw_stroke["points"] = [1, 2]  # a foreign client wrote a plain JSON list
    with pytest.raises(SchemaError, match="no points Array to append to"):
        canvas.append_points(p, s, [3, 4])
    assert canvas.get_layer(p).strokes[0].points == (1.0, 2.0)


def test_begin_stroke_repairs_missing_strokes_array(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    raw_layer(canvas, p)["strokes"] = "garbage"
    s = canvas.begin_stroke(p, points=[1, 2])
    assert [stroke.id for stroke in canvas.get_layer(p).strokes] == [s]


# -- tolerant readers --------------------------------------------------------------------------


def test_readers_tolerate_garbage_meta(canvas: Canvas) -> None:
    m = canvas.meta_map
    m["width"] = "wide"
    m["height"] = 0
    m["dpi"] = 1.5
    m["background"] = 5
    m["name"] = Map({"x": 1})
    m["color_profile"] = None
    assert canvas.read_meta() == CanvasMeta()


def test_readers_tolerate_garbage_layers(canvas: Canvas) -> None:
    arr = canvas.layers_array
    arr.append("just a string")
    arr.append(42)
    arr.append({"id": "plain-dict"})  # not a shared Map: skipped
    arr.append(
        Map(
            {
                "id": "bad",
                "name": Text("rich"),
                "kind": "vector",
                "blend_mode": 123,
                "opacity": "x",
                "visible": "yes",
                "locked": 1,
                "x": None,
                "y": float("nan"),
                "blob": "not-a-hash",
                "provenance": "not a dict",
                "strokes": Array([1, 2]),
            }
        )
    )
    arr.append(Map({"name": "no id"}))
    arr.append(Map({"id": 17, "kind": "paint", "strokes": "not an array"}))
    arr.append(Array([1, 2]))
    layers = canvas.read_layers()
    assert len(layers) == 3
    assert layers[0] == Layer(id="bad")
    assert layers[1].name == "no id" and layers[1].id == "anon-0"
    assert layers[2].kind == "paint" and layers[2].strokes == ()
    assert layers[2].id == "anon-1"  # 17 is not a usable id
    assert canvas.layer_ids() == [layer.id for layer in layers]
    assert canvas.get_layer(layers[1].id) == layers[1]
    assert json.loads(json.dumps(canvas.to_dict(), allow_nan=False))["layers"][0]["id"] == "bad"


def test_fallback_ids_are_deterministic_and_usable(canvas: Canvas) -> None:
    canvas.layers_array.append(Map({"name": "anon"}))
    canvas.layers_array.append(Map({"id": "", "name": "anon 2"}))
    assert canvas.layer_ids() == ["anon-0", "anon-1"]
    canvas.add_layer("below", index=0, layer_id="below")
    assert canvas.layer_ids() == ["below", "anon-0", "anon-1"]  # layers with ids don't shift them
    assert replica_of(canvas).to_dict() == canvas.to_dict()  # same on every replica
    canvas.update_layer("anon-0", opacity=5)
    assert canvas.get_layer("anon-0").opacity == 5
    canvas.move_layer("anon-0", 0)
    assert canvas.layer_ids() == ["anon-0", "below", "anon-1"]
    assert "id" not in canvas.layers_array[0]  # moved without being given an id
    canvas.move_layer("anon-0", 2)  # moving it past the other id-less layer renumbers them
    assert [layer.name for layer in canvas.read_layers()] == ["below", "anon 2", "anon"]
    assert canvas.layer_ids() == ["below", "anon-0", "anon-1"]
    canvas.remove_layer("anon-1")
    assert [layer.name for layer in canvas.read_layers()] == ["below", "anon 2"]


def test_readers_tolerate_garbage_strokes(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint")
    strokes = raw_layer(canvas, p)["strokes"]
    strokes.append("junk")
    strokes.append(
        Map(
            {
                "id": "s1",
                "tool": "pen",
                "color": "blue",
                "size": -1,
                "hardness": True,
                "opacity": [],
                "points": Array([1, 2, "x", 4, 5, 6, 7]),
            }
        )
    )
    strokes.append(Map({"points": [1.5, 2.5]}))
    strokes.append(Map({"id": "s3", "points": "nope"}))
    read = canvas.get_layer(p).strokes
    assert read[0] == Stroke("s1", points=(1.0, 2.0, 5.0, 6.0))  # bad pair dropped, odd tail too
    assert read[1].points == (1.5, 2.5) and read[1].id == "anon-0"
    assert read[2] == Stroke("s3")


def test_duplicate_ids_keep_last_occurrence(canvas: Canvas) -> None:
    canvas.add_layer("first", layer_id="dup")
    canvas.add_layer("middle", layer_id="m")
    canvas.layers_array.append(Map({"id": "dup", "name": "second"}))
    assert canvas.layer_ids() == ["m", "dup"]
    assert canvas.get_layer("dup").name == "second"
    canvas.update_layer("dup", opacity=7)
    assert canvas.get_layer("dup").opacity == 7
    canvas.move_layer("dup", 0)
    assert canvas.layer_ids() == ["dup", "m"]
    assert len(canvas.layers_array) == 2  # the move collapsed the duplicates
    assert canvas.get_layer("dup").name == "second"
    canvas.layers_array.append(Map({"id": "dup", "name": "third"}))
    canvas.remove_layer("dup")
    assert canvas.layer_ids() == ["m"]


def test_history_reader_is_tolerant(canvas: Canvas) -> None:
    h = canvas.history_array
    h.append(Map({"who": "ann", "what": "add layer", "when": 1700000000.5}))
    h.append("garbage")
    h.append({"who": "bob", "what": "undo", "when": 1})
    h.append(Array([1]))
    assert canvas.history() == [
        {"who": "ann", "what": "add layer", "when": 1700000000.5},
        {"who": "bob", "what": "undo", "when": 1.0},
    ]


def test_readers_work_inside_an_observer(canvas: Canvas) -> None:
    seen: list[list[str]] = []
    canvas.layers_array.observe(lambda event: seen.append(canvas.layer_ids()))
    canvas.layers_array.append(Map({"name": "anon"}))
    assert seen == [["anon-0"]]


def test_to_dict_is_plain_json(canvas: Canvas) -> None:
    p = canvas.add_layer("P", kind="paint", provenance={"b": 1, "a": [1, {"z": None}]})
    canvas.begin_stroke(p, points=[1, 2])
    canvas.history_array.append(Map({"who": "x"}))
    view = canvas.to_dict()
    assert json.loads(json.dumps(view, allow_nan=False)) == view
    assert list(view) == ["history", "layers", "meta"]
    assert view["layers"][0]["strokes"][0]["points"] == [1.0, 2.0]
    assert view["layers"][0]["provenance"] == {"a": [1.0, {"z": None}], "b": 1.0}


def test_writer_joins_callers_transaction(canvas: Canvas) -> None:
    origins: list[Any] = []
    canvas.doc.observe(lambda event: origins.append(event.update))
    with canvas.doc.transaction(origin="user-1"):
        lid = canvas.add_layer("A", kind="paint")
        canvas.begin_stroke(lid, points=[1, 2])
        canvas.move_layer(lid, 0)
    assert len(origins) == 1


# -- replicas ----------------------------------------------------------------------------------


def test_replicas_converge() -> None:
    c1, c2 = Canvas(Doc()), Canvas(Doc())
    c1.init(name="Shared", width=640)
    a = c1.add_layer("A", kind="paint")
    sync(c1.doc, c2.doc)
    assert c2.to_dict() == c1.to_dict()
    b = c2.add_layer("B", blob=BLOB, provenance={"job_id": "j", "model": "m", "prompt": "p"})
    c1.update_layer(a, opacity=20)
    c1.set_meta(dpi=300)
    c2.set_meta(background="transparent")
    sync(c1.doc, c2.doc)
    assert c1.to_dict() == c2.to_dict()
    assert c1.layer_ids() == c2.layer_ids() and set(c1.layer_ids()) == {a, b}
    assert c1.read_meta().dpi == 300 and c1.read_meta().background == "transparent"


def test_concurrent_moves_of_same_layer() -> None:
    c1 = Canvas(Doc())
    for name in "ABCD":
        c1.add_layer(name, layer_id=name, kind="paint")
    s = c1.begin_stroke("A", points=[1, 2])
    c2 = replica_of(c1)
    c1.move_layer("A", 3)
    c2.move_layer("A", 1)
    c2.update_layer("B", opacity=33)
    sync(c1.doc, c2.doc)
    assert c1.to_dict() == c2.to_dict()
    ids = c1.layer_ids()
    assert sorted(ids) == ["A", "B", "C", "D"]  # one layer per id on both replicas
    assert ids == c2.layer_ids()
    assert len(c1.layers_array) == 5  # both copies are still in the raw array
    assert c1.get_layer("A").strokes[0].points == (1.0, 2.0)
    assert c1.get_layer("B").opacity == 33
    # a later move on either side heals the duplicate for everyone
    c2.move_layer("A", 0)
    sync(c1.doc, c2.doc)
    assert len(c1.layers_array) == 4 and c1.layer_ids() == c2.layer_ids()
    assert c1.layer_ids()[0] == "A"
    c1.append_points("A", s, [3, 4])
    sync(c1.doc, c2.doc)
    assert c2.get_layer("A").strokes[0].points == (1.0, 2.0, 3.0, 4.0)


def test_concurrent_move_and_remove() -> None:
    c1 = Canvas(Doc())
    for name in "ABC":
        c1.add_layer(name, layer_id=name)
    c2 = replica_of(c1)
    c1.move_layer("A", 2)
    c2.remove_layer("A")
    sync(c1.doc, c2.doc)
    assert c1.to_dict() == c2.to_dict()
    assert c1.layer_ids().count("A") <= 1


def test_concurrent_stroke_points_converge() -> None:
    c1 = Canvas(Doc())
    p = c1.add_layer("P", kind="paint")
    s = c1.begin_stroke(p, points=[0, 0])
    c2 = replica_of(c1)
    for i in range(1, 6):
        c1.append_points(p, s, [i, i])
        c2.append_points(p, s, [-i, -i * 2])
    t1 = c1.begin_stroke(p, points=[9, 9])
    t2 = c2.begin_stroke(p, tool="eraser", points=[8, 8])
    c2.append_points(p, t2, [7, 7])
    sync(c1.doc, c2.doc)
    assert c1.to_dict() == c2.to_dict()
    strokes = c1.get_layer(p).strokes
    assert {stroke.id for stroke in strokes} == {s, t1, t2}
    points = strokes[0].points
    assert len(points) == 22
    pairs = list(zip(points[::2], points[1::2], strict=True))
    assert sorted(pairs) == sorted(
        [(0.0, 0.0)] + [(i, i) for i in range(1, 6)] + [(-i, -i * 2) for i in range(1, 6)]
    )
    # each replica's own appends keep their order after the merge
    assert [pair for pair in pairs if pair[0] > 0] == [(i, i) for i in range(1, 6)]


# -- found by fuzzing (tests/canvasdoc/test_fuzz_schema.py) ---------------------------------------


def test_moving_a_layer_keeps_binary_values_a_foreign_client_stored() -> None:
    """pycrdt reads binary as bytearray but only writes bytes: the copy used to fail after the
    original was deleted, so the move lost the layer."""
    canvas = Canvas(Doc())
    a = canvas.add_layer("a")
    canvas.add_layer("b")
    layer = canvas.layers_array[0]
    layer["thumb"] = b"\x00\xff"
    layer["extra"] = [b"\x01", {"k": b"\x02"}]
    canvas.move_layer(a, 1)
    assert [layer.name for layer in canvas.read_layers()] == ["b", "a"]
    moved = canvas.layers_array[1]
    assert bytes(moved["thumb"]) == b"\x00\xff"
    assert [bytes(moved["extra"][0]), bytes(moved["extra"][1]["k"])] == [b"\x01", b"\x02"]


def test_restoring_copies_binary_values_nested_in_plain_lists() -> None:
    source = Canvas(Doc())
    source.add_layer("a")
    source.meta_map["dpi"] = [b""]  # read back as [bytearray(b'')]
    source.layers_array[0]["blobs"] = [b"\x01\x02"]
    target = Canvas(Doc())
    target.add_layer("other")
    target.replace_content(source)
    assert target.content() == source.content()
    assert target.content()["meta"]["dpi"] == ["bytearray(b'')"]  # not [None]


def test_big_integers_read_the_same_on_the_writer_and_its_replicas() -> None:
    canvas = Canvas(Doc())
    canvas.meta_map["name"] = 2**63 - 1  # the writer reads an int, a replica a float
    canvas.meta_map["count"] = 2**53
    assert replica_of(canvas).content() == canvas.content()
    assert canvas.content()["meta"]["name"] == float(2**63 - 1)


def test_ids_of_the_fallback_form_are_reserved() -> None:
    """A stored "anon-0" used to shadow the first id-less layer, which then vanished."""
    canvas = Canvas(Doc())
    canvas.layers_array.append(Map({"name": "no id"}))
    canvas.layers_array.append(Map({"id": "anon-0", "name": "claims a fallback id"}))
    assert [(layer.id, layer.name) for layer in canvas.read_layers()] == [
        ("anon-0", "no id"),
        ("anon-1", "claims a fallback id"),
    ]
    with pytest.raises(SchemaError, match="reserved"):
        canvas.add_layer("x", layer_id="anon-7")
    paint = canvas.add_layer("p", kind="paint", layer_id="anon-x")  # not of the reserved form
    with pytest.raises(SchemaError, match="reserved"):
        canvas.begin_stroke(paint, stroke_id="anon-0")
