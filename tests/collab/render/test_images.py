"""Image validation: what is accepted, what is refused, and that refusals name the reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from collab.render.images import (
    CorruptImage,
    ImageLimits,
    ImageTooLarge,
    UnsupportedImage,
    decode_rgba,
    inspect_image,
)

LIMITS = ImageLimits(max_bytes=8 * 1024 * 1024, max_dimension=4096, max_pixels=4_000_000)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise(width: int = 120, height: int = 80, mode: str = "RGBA") -> Image.Image:
    rng = np.random.default_rng(1)
    channels = len(mode)
    return Image.fromarray(rng.integers(0, 256, (height, width, channels), dtype=np.uint8), mode)


@pytest.mark.parametrize(
    ("fmt", "media_type", "options"),
    [("PNG", "image/png", {}), ("JPEG", "image/jpeg", {}), ("WEBP", "image/webp", {})],
)
def test_png_jpeg_and_webp_are_accepted(fmt: str, media_type: str, options: dict) -> None:
    image = noise(mode="RGB" if fmt == "JPEG" else "RGBA")
    info = inspect_image(encoded(image, fmt, **options), LIMITS)
    assert (info.format, info.media_type, info.width, info.height) == (fmt, media_type, 120, 80)


def test_decode_gives_rgba_pixels_as_stored() -> None:
    image = noise()
    pixels = decode_rgba(encoded(image, "PNG"))
    assert pixels.shape == (80, 120, 4) and pixels.dtype == np.uint8
    assert np.array_equal(pixels, np.asarray(image))


def test_decode_converts_palette_grey_and_16_bit() -> None:
    grey16 = Image.fromarray(np.full((4, 5), 65535, dtype=np.uint16))
    assert grey16.mode.startswith("I")
    pixels = decode_rgba(encoded(grey16, "PNG"))
    assert pixels.shape == (4, 5, 4) and np.all(pixels == 255)
    palette = noise(mode="RGB").convert("P")
    assert decode_rgba(encoded(palette, "PNG"))[..., 3].min() == 255


def test_exif_orientation_is_applied_as_browsers_do() -> None:
    image = noise(40, 10, mode="RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    data = encoded(image, "JPEG", exif=exif.tobytes())
    info = inspect_image(data, LIMITS)
    assert (info.width, info.height) == (10, 40)
    assert decode_rgba(data).shape == (40, 10, 4)


def test_decompression_bomb_is_refused_before_decoding_naming_the_limit() -> None:
    bomb = encoded(Image.new("1", (20000, 20000)), "PNG")  # ~50 KB on disk, 400 Mpx decoded
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLarge, match=r"20000x20000.*4096 pixels per side") as excinfo:
        inspect_image(bomb, LIMITS)
    assert excinfo.value.limit == "max_image_dimension"
    assert "NEXUS_MAX_IMAGE_DIMENSION" in str(excinfo.value)


def test_pixel_count_limit() -> None:
    wide = encoded(Image.new("L", (4000, 1100)), "PNG")
    with pytest.raises(ImageTooLarge, match="4400000 pixels exceeds the limit of 4000000") as exc:
        inspect_image(wide, LIMITS)
    assert exc.value.limit == "max_image_pixels"


def test_byte_limit() -> None:
    with pytest.raises(ImageTooLarge, match="NEXUS_MAX_BLOB_BYTES"):
        inspect_image(b"\x89PNG\r\n\x1a\n" + bytes(100), ImageLimits(max_bytes=50))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_images_are_corrupt(fmt: str, keep: float) -> None:
    data = encoded(noise(mode="RGB"), fmt)
    with pytest.raises(CorruptImage, match=f"{fmt} data is corrupt"):
        inspect_image(data[: int(len(data) * keep)], LIMITS)


def test_png_with_a_bad_checksum_or_no_end_is_corrupt() -> None:
    data = bytearray(encoded(noise(), "PNG"))
    flipped = bytes(data[:200]) + bytes([data[200] ^ 0xFF]) + bytes(data[201:])
    with pytest.raises(CorruptImage):
        inspect_image(flipped, LIMITS)
    with pytest.raises(CorruptImage, match="IEND"):
        inspect_image(bytes(data[:-12]), LIMITS)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (encoded(noise(mode="RGB"), "GIF"), "a GIF image"),
        (encoded(noise(mode="RGB"), "BMP"), "a BMP image"),
        (encoded(noise(mode="RGB"), "TIFF"), "a TIFF image"),
        (b"hello, this is a text file\n", "text"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "markup"),
        (b"", "empty data"),
        (bytes(range(256)), "unrecognised binary data"),
    ],
)
def test_other_formats_are_unsupported_and_named(data: bytes, named: str) -> None:
    with pytest.raises(UnsupportedImage, match=f"only PNG, JPEG and WebP .*got {named}"):
        inspect_image(data, LIMITS)
