"""The compositor: layer order, visibility, opacity, offsets, background, strokes, scale,
regions, single layers, and bit-for-bit determinism."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pycrdt import Doc

from canvasdoc.canvas import Canvas, CanvasMeta, Layer, Stroke
from collab.render import compositor
from collab.render.compositor import Region, Scene, render

RED, BLUE = "r" * 0 + "1" * 64, "2" * 64


def solid(width: int, height: int, rgba: tuple[int, int, int, int]) -> np.ndarray:
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[...] = rgba
    return pixels


IMAGES = {RED: solid(10, 10, (255, 0, 0, 255)), BLUE: solid(4, 4, (0, 0, 255, 255))}


def scene(*layers: Layer, background: str = "transparent", size: int = 32) -> Scene:
    return Scene(CanvasMeta(width=size, height=size, background=background), tuple(layers))


def stroke(points: tuple[float, ...], **fields: object) -> Stroke:
    return Stroke(id=f"s{len(points)}{sorted(fields.items())}", points=points, **fields)  # type: ignore[arg-type]


def test_background_colours() -> None:
    assert np.all(render(scene(background="#336699"), {}) == (0x33, 0x66, 0x99, 255))
    assert np.all(render(scene(background="#33669980"), {}) == (0x33, 0x66, 0x99, 0x80))
    assert np.all(render(scene(background="transparent"), {}) == 0)


def test_layers_stack_bottom_first_at_their_offsets() -> None:
    out = render(
        scene(Layer(id="a", blob=RED, x=2, y=3), Layer(id="b", blob=BLUE, x=5, y=6)), IMAGES
    )
    assert tuple(out[3, 2]) == (255, 0, 0, 255)  # red's top-left corner
    assert tuple(out[2, 2]) == (0, 0, 0, 0)  # above it: nothing
    assert tuple(out[6, 5]) == (0, 0, 255, 255)  # blue on top
    assert tuple(out[12, 11]) == (255, 0, 0, 255)  # red's bottom-right corner
    assert tuple(out[13, 12]) == (0, 0, 0, 0)


def test_hidden_and_zero_opacity_layers_and_groups_draw_nothing() -> None:
    layers = (
        Layer(id="hidden", blob=RED, visible=False),
        Layer(id="clear", blob=RED, opacity=0),
        Layer(id="group", kind="group"),
        Layer(id="empty", kind="raster", blob=None),
        Layer(id="missing", blob="9" * 64),  # its image is not in the store
    )
    assert np.all(render(scene(*layers), IMAGES) == 0)


def test_opacity_scales_alpha() -> None:
    out = render(scene(Layer(id="a", blob=RED, opacity=40)), IMAGES)
    assert tuple(out[5, 5]) == (255, 0, 0, 102)


def test_fractional_offsets_are_resampled() -> None:
    out = render(scene(Layer(id="a", blob=RED, x=0.5)), IMAGES)
    assert 100 < out[5, 0, 3] < 155  # half covered
    assert tuple(out[5, 5]) == (255, 0, 0, 255)


def test_scale_and_region() -> None:
    doc = scene(Layer(id="a", blob=RED, x=2, y=2), background="#ffffff")
    full = render(doc, IMAGES, scale=2)
    assert full.shape == (64, 64, 4)
    assert tuple(full[4, 4]) == (255, 0, 0, 255) and tuple(full[3, 3]) == (255, 255, 255, 255)
    half = render(doc, IMAGES, scale=0.5)
    assert half.shape == (16, 16, 4)
    part = render(doc, IMAGES, scale=2, region=Region(3, 2, 10, 5))
    assert np.array_equal(part, full[2:7, 3:13])
    with pytest.raises(ValueError, match="scale"):
        render(doc, IMAGES, scale=0)


def test_single_layer_is_its_content_alone() -> None:
    doc = scene(
        Layer(id="a", blob=RED),
        Layer(id="b", blob=BLUE, x=1, y=1, opacity=10, visible=False, blend_mode="multiply"),
        background="#00ff00",
    )
    out = render(doc, IMAGES, layer_id="b")
    assert out.shape == (32, 32, 4)
    assert tuple(out[1, 1]) == (0, 0, 255, 255)  # full opacity, normal blending
    assert tuple(out[0, 0]) == (0, 0, 0, 0)  # no background, no other layer
    assert np.all(render(doc, IMAGES, layer_id="nope") == 0)


# -- strokes -------------------------------------------------------------------------------------


def paint(*strokes: Stroke, **fields: object) -> Layer:
    return Layer(id="paint", kind="paint", strokes=strokes, **fields)  # type: ignore[arg-type]


def test_stroke_is_antialiased_with_round_caps() -> None:
    out = render(scene(paint(stroke((10, 16.3, 22, 16.3), size=8, color="#ff0000"))), {})
    alpha = out[..., 3]
    assert alpha[16, 16] == 255 and tuple(out[16, 16, :3]) == (255, 0, 0)
    assert alpha[16, 7] > 0  # the round cap reaches 4 px beyond the end point
    assert alpha[12, 6] == 0  # ... but not into the corner a square cap would fill
    edge = alpha[10:23, 16]
    assert np.any((edge > 0) & (edge < 255))  # antialiased edge


def test_single_point_is_a_dot() -> None:
    out = render(scene(paint(stroke((16, 16), size=10))), {})
    assert out[16, 16, 3] == 255 and out[16, 20, 3] > 0 and out[16, 23, 3] == 0


def test_hardness_softens_the_edge() -> None:
    hard = render(scene(paint(stroke((4, 16, 28, 16), size=16, hardness=1.0))), {})[..., 3]
    soft = render(scene(paint(stroke((4, 16, 28, 16), size=16, hardness=0.0))), {})[..., 3]
    column_hard, column_soft = hard[:, 16].astype(int), soft[:, 16].astype(int)
    assert column_hard[16] == column_soft[16] == 255
    partial = lambda column: np.count_nonzero((column > 5) & (column < 250))  # noqa: E731
    assert partial(column_soft) > partial(column_hard) + 4


def test_stroke_opacity_and_colour_alpha_are_uniform_where_the_path_crosses_itself() -> None:
    loop = (4.0, 16.0, 28.0, 16.0, 16.0, 4.0, 16.0, 28.0)
    out = render(scene(paint(stroke(loop, size=4, opacity=50, color="#0000ff80"))), {})
    assert out[16, 16, 3] == round(255 * 0.5 * 128 / 255)  # crossing: not darker
    assert out[16, 8, 3] == out[16, 16, 3]


def test_eraser_erases_earlier_strokes_of_its_layer_only() -> None:
    brush = stroke((4, 16, 28, 16), size=10, color="#000000")
    eraser = stroke((16, 4, 16, 28), size=6, tool="eraser")
    doc = scene(Layer(id="under", blob=RED), paint(brush, eraser), background="#ffffff")
    out = render(doc, IMAGES)
    assert tuple(out[16, 8]) == (0, 0, 0, 255)  # brush
    assert tuple(out[16, 16]) == (255, 255, 255, 255)  # erased to what is below: background
    assert tuple(out[5, 5]) == (255, 0, 0, 255)  # the red layer below is untouched
    half = replace(eraser, opacity=50)
    out = render(scene(paint(brush, half)), {})
    assert 120 < out[16, 16, 3] < 135


# -- determinism -----------------------------------------------------------------------------------


def busy_document() -> tuple[Scene, dict[str, np.ndarray]]:
    doc: Doc = Doc()
    canvas = Canvas(doc)
    canvas.init(width=300, height=200, background="#fafafa")
    canvas.add_layer("photo", blob=RED, x=10, y=20, opacity=80, layer_id="photo")
    canvas.add_layer("hidden", blob=BLUE, visible=False, layer_id="hidden")
    sketch = canvas.add_layer("sketch", kind="paint", blend_mode="multiply", opacity=70)
    for i in range(6):
        sid = canvas.begin_stroke(
            sketch, color=f"#{40 * i:02x}3080", size=3 + 5 * i, hardness=i / 5, opacity=60 + 8 * i
        )
        canvas.append_points(sketch, sid, [10 + 40 * i, 10, 50 + 30 * i, 190, 290 - 20 * i, 100])
    canvas.begin_stroke(sketch, tool="eraser", size=12, points=[0, 100, 300, 100])
    for mode in ("dissolve", "vivid-light", "hue", "divide"):
        canvas.add_layer(mode, blob=BLUE, x=40, y=60, blend_mode=mode, opacity=65)
    rng = np.random.default_rng(7)
    images = {
        RED: rng.integers(0, 256, (150, 200, 4), dtype=np.uint8),
        BLUE: rng.integers(0, 256, (120, 90, 4), dtype=np.uint8),
    }
    return Scene.from_canvas(canvas), images


def test_repeated_renders_are_bit_identical() -> None:
    doc, images = busy_document()
    first = render(doc, images)
    assert np.any(first[..., :3] != 250)
    for _ in range(3):
        assert np.array_equal(render(doc, images), first)


def test_bands_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    doc, images = busy_document()
    whole = render(doc, images)
    monkeypatch.setattr(compositor, "BAND_PIXELS", 300 * 7)  # 7-row bands
    assert np.array_equal(render(doc, images), whole)


@pytest.mark.parametrize("scale", [1.0, 0.37, 1.5])
def test_a_region_is_exactly_that_part_of_the_full_render(scale: float) -> None:
    doc, images = busy_document()
    layers = tuple(replace(layer, x=layer.x + 0.3, y=layer.y - 0.6) for layer in doc.layers)
    shifted = Scene(doc.meta, layers)
    for source in (doc, shifted):
        whole = render(source, images, scale=scale)
        height, width = whole.shape[:2]
        for region in (Region(0, 0, width // 2, height), Region(13, 9, width // 3, height // 2)):
            part = render(source, images, scale=scale, region=region)
            window = whole[region.y : region.y + region.height, region.x : region.x + region.width]
            assert np.array_equal(part, window), (scale, region)


def test_scene_from_update_equals_scene_of_the_canvas() -> None:
    doc, _ = busy_document()
    again = Scene.from_update(b"")
    assert again.layers == ()
    assert doc.blobs() == [RED, BLUE]
    assert doc.blobs(layer_id="hidden") == [BLUE]
