"""Render one picture per blend mode with the compositor, for docs/blend-modes.md.

Each picture is the same two-layer document: a backdrop (hues left to right, light to dark
top to bottom) and, above it in the mode shown, a source layer of colour swatches and a
grey ramp whose right half is 50 % transparent. Writes
``docs/images/blend-modes/<mode>.png`` and rewrites the gallery between the markers in
``docs/blend-modes.md``. Deterministic: running it again changes nothing.

    .venv/bin/python scripts/render_blend_modes.py
"""

from __future__ import annotations

import colorsys
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from canvasdoc.canvas import BLEND_MODES, CanvasMeta, Layer  # noqa: E402
from collab.render.compositor import Scene, render  # noqa: E402

WIDTH, HEIGHT = 192, 120
IMAGES = ROOT / "docs" / "images" / "blend-modes"
PAGE = ROOT / "docs" / "blend-modes.md"
START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
BACKDROP, SOURCE = "b" * 64, "5" * 64


def backdrop() -> np.ndarray:
    pixels = np.zeros((HEIGHT, WIDTH, 4), dtype=np.uint8)
    for x in range(WIDTH):
        for y in range(HEIGHT):
            lightness = 0.85 - 0.7 * y / (HEIGHT - 1)
            rgb = colorsys.hls_to_rgb(x / WIDTH, lightness, 0.75)
            pixels[y, x] = [round(c * 255) for c in rgb] + [255]
    return pixels


def source() -> np.ndarray:
    pixels = np.zeros((HEIGHT, WIDTH, 4), dtype=np.uint8)
    swatches = [(230, 60, 40), (60, 170, 80), (50, 90, 220), (240, 200, 40), (128, 128, 128)]
    size = WIDTH // len(swatches)
    for i, colour in enumerate(swatches):
        pixels[12 : HEIGHT // 2, i * size + 4 : (i + 1) * size - 4, :3] = colour
        pixels[12 : HEIGHT // 2, i * size + 4 : (i + 1) * size - 4, 3] = 255
    ramp = np.linspace(0, 255, WIDTH).round().astype(np.uint8)
    pixels[HEIGHT // 2 + 12 : HEIGHT - 12, :, :3] = ramp[None, :, None]
    pixels[HEIGHT // 2 + 12 : HEIGHT - 12, :, 3] = 255
    pixels[:, WIDTH // 2 :, 3] //= 2  # the right half is semi-transparent
    return pixels


def picture(mode: str, images: dict[str, np.ndarray]) -> bytes:
    scene = Scene(
        CanvasMeta(width=WIDTH, height=HEIGHT, background="#ffffff"),
        (Layer(id="backdrop", blob=BACKDROP), Layer(id="source", blob=SOURCE, blend_mode=mode)),
    )
    buffer = io.BytesIO()
    Image.fromarray(render(scene, images), "RGBA").convert("RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def gallery() -> str:
    rows = ["| mode | result |", "|---|---|"]
    rows += [f"| `{mode}` | ![{mode}](images/blend-modes/{mode}.png) |" for mode in BLEND_MODES]
    return "\n".join(rows)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    images = {BACKDROP: backdrop(), SOURCE: source()}
    for mode in BLEND_MODES:
        (IMAGES / f"{mode}.png").write_bytes(picture(mode, images))
    text = PAGE.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    PAGE.write_text(f"{head}{START}\n{gallery()}\n{END}{tail}", encoding="utf-8")
    print(f"wrote {len(BLEND_MODES)} pictures to {IMAGES.relative_to(ROOT)} and the gallery")


if __name__ == "__main__":
    main()
