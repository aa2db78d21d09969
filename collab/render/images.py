"""Image validation and decoding with Pillow: PNG, JPEG and WebP only, sizes capped.

The format is recognised from the data's magic bytes, then the header is parsed by that
format's Pillow plugin directly, never through ``Image.open``: its decompression-bomb check
warns or raises by a process-wide limit of its own, whereas here the caller's
:class:`ImageLimits` are checked against the header before a single pixel is decoded. Only
then is the whole image decoded, which is what finds truncated or corrupt data.

Errors (all :class:`ImageRejected`, a ``ValueError``)::

    ImageRejected
     ├── UnsupportedImage   not PNG, JPEG or WebP (GIF, text, ...)
     ├── CorruptImage       recognised but undecodable (truncated, bad checksum)
     └── ImageTooLarge      more bytes, pixels per side or pixels than the limits allow
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

_PLUGINS: dict[str, type[ImageFile.ImageFile]] = {
    "PNG": PngImagePlugin.PngImageFile,
    "JPEG": JpegImagePlugin.JpegImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
}
# Formats we can name in a refusal, so the message says what was sent.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"%PDF", "PDF"),
    (b"8BPS", "PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)
_PNG_END = b"IEND\xaeB`\x82"
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_EXIF_ORIENTATION = 0x0112


class ImageRejected(ValueError):
    """The data is not an image this server accepts; ``code`` is the API error code."""

    code = "invalid_image"


class UnsupportedImage(ImageRejected):
    code = "unsupported_media_type"


class CorruptImage(ImageRejected):
    code = "corrupt_image"


class ImageTooLarge(ImageRejected):
    """``limit`` names the limit that was exceeded (its setting), ``value`` what was seen."""

    code = "image_too_large"

    def __init__(self, message: str, *, limit: str, maximum: int, value: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum
        self.value = value


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 32 * 1024 * 1024
    max_dimension: int = 16384  # pixels per side
    max_pixels: int = 64_000_000  # width x height


@dataclass(frozen=True)
class ImageInfo:
    """A validated image. ``width``/``height`` are as displayed (EXIF orientation applied)."""

    format: str  # PNG, JPEG or WEBP
    media_type: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """``PNG``, ``JPEG``, ``WEBP`` or None, from the magic bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe_unknown(data: bytes) -> str:
    for magic, name in _OTHER_MAGIC:
        if data.startswith(magic):
            return f"a {name} image"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "an ISO media file (AVIF/HEIC)"
    head = data[:512]
    if not data:
        return "empty data"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    if text.lstrip().startswith("<"):
        return "markup (SVG, HTML or XML)"
    return "text"


def _open(data: bytes, kind: str) -> ImageFile.ImageFile:
    try:
        return _PLUGINS[kind](io.BytesIO(data))
    except Exception as exc:  # Pillow raises SyntaxError, OSError, ValueError, struct.error...
        raise CorruptImage(f"{kind} data is corrupt: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _displayed_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block does not make the pixels unusable
        orientation = None
    return (height, width) if orientation in _ROTATED else (width, height)


def inspect_image(data: bytes, limits: ImageLimits) -> ImageInfo:
    """Validate ``data`` completely (it is decoded once) and describe it.

    Raises :class:`UnsupportedImage`, :class:`CorruptImage` or :class:`ImageTooLarge`, whose
    message names the format, the limit or the defect.
    """
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"image of {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes"
            " (NEXUS_MAX_BLOB_BYTES)",
            limit="max_blob_bytes",
            maximum=limits.max_bytes,
            value=len(data),
        )
    kind = sniff(data)
    if kind is None:
        raise UnsupportedImage(
            f"only PNG, JPEG and WebP images are accepted; got {_describe_unknown(data)}"
        )
    image = _open(data, kind)
    width, height = image.size
    side = max(width, height)
    if side > limits.max_dimension:
        raise ImageTooLarge(
            f"{kind} image of {width}x{height} pixels exceeds the limit of "
            f"{limits.max_dimension} pixels per side (NEXUS_MAX_IMAGE_DIMENSION)",
            limit="max_image_dimension",
            maximum=limits.max_dimension,
            value=side,
        )
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"{kind} image of {width}x{height} = {width * height} pixels exceeds the limit of "
            f"{limits.max_pixels} pixels (NEXUS_MAX_IMAGE_PIXELS)",
            limit="max_image_pixels",
            maximum=limits.max_pixels,
            value=width * height,
        )
    if width < 1 or height < 1:
        raise CorruptImage(f"{kind} image has no pixels ({width}x{height})")
    displayed = _displayed_size(image)
    try:
        image.load()
    except Exception as exc:
        raise CorruptImage(f"{kind} data is corrupt: {_reason(exc)}") from None
    if kind == "PNG":
        _verify_png(data)
    return ImageInfo(kind, MEDIA_TYPES[kind], *displayed)


def _verify_png(data: bytes) -> None:
    """Chunk checksums and the end marker, which decoding the pixels does not look at."""
    if _PNG_END not in data[-4096:]:
        raise CorruptImage("PNG data is corrupt: it does not end with an IEND chunk (truncated?)")
    try:
        PngImagePlugin.PngImageFile(io.BytesIO(data)).verify()
    except Exception as exc:
        raise CorruptImage(f"PNG data is corrupt: {_reason(exc)}") from None


def decode_rgba(data: bytes) -> np.ndarray:
    """The image as displayed: ``(height, width, 4)`` uint8 RGBA, not premultiplied.

    EXIF orientation is applied (browsers do so too); embedded colour profiles are ignored,
    so pixel values are taken as sRGB. 16-bit greyscale is scaled to 8 bits; animated
    images give their first frame.
    """
    kind = sniff(data)
    if kind is None:
        raise UnsupportedImage(
            f"only PNG, JPEG and WebP images are accepted; got {_describe_unknown(data)}"
        )
    image: Image.Image = _open(data, kind)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception as exc:
        raise CorruptImage(f"{kind} data is corrupt: {_reason(exc)}") from None
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        wide = np.asarray(image).astype(np.uint32)
        image = Image.fromarray(((wide.clip(0, 65535) + 128) // 257).astype(np.uint8), "L")
    if image.mode != "RGBA":
        image = image.convert("RGBA")
    pixels = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(pixels)
