"""Decoding and resizing input images (what both local backends and validation share)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..errors import InvalidParameterError

# The largest image side taken in or asked for: generous for real models (SDXL 1024, Flux 2048, photos), and a
# cap on what one request may make a process allocate. Decoding checks the declared size before any pixels.
MAX_SIDE = 8192
MAX_PIXELS = MAX_SIDE * MAX_SIDE


def decoded_size(field: str, data: Any) -> tuple[int, int]:
    """Width and height of image file ``data``; raises ``InvalidParameterError`` naming ``field`` otherwise."""
    return decode_image(field, data).size


def decode_image(field: str, data: Any, mode: str | None = None) -> Image.Image:
    """Image file bytes as a loaded PIL image (converted to ``mode`` when given)."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise InvalidParameterError(
            field, f"must be the bytes of an image file (PNG, JPEG, WebP), got {type(data).__name__}"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            check_declared_size(field, *image.size)
            image.load()
            return image.convert(mode) if mode else image.copy()
    except Image.DecompressionBombError as exc:  # Pillow's own limit, met before ours can look
        raise InvalidParameterError(field, f"{exc}; pass an image of at most {MAX_SIDE}x{MAX_SIDE}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidParameterError(
            field, f"does not decode as an image ({exc}); pass a PNG, JPEG or WebP file"
        ) from exc


def check_declared_size(field: str, width: int, height: int) -> None:
    """Refuse a file declaring absurd dimensions (a decompression bomb: a few KB that inflate to GBs)."""
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidParameterError(
            field, f"declares {width}x{height} pixels, more than the {MAX_SIDE}x{MAX_SIDE} taken; pass a smaller image"
        )


def resized(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` at ``width`` x ``height`` (unchanged when it already is)."""
    return image if image.size == (width, height) else image.resize((width, height))


def square_thumbnail(image: Image.Image, size: int, background: tuple[int, int, int]) -> Image.Image:
    """``image`` fitted into a ``size`` square on ``background`` (grids, galleries). Small images are
    enlarged without smoothing, so that their pixels stay visible."""
    image = image.convert("RGB")
    scale = size / max(image.size)
    resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
    fitted = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    canvas = Image.new("RGB", (size, size), background)
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    return canvas
