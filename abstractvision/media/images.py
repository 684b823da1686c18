"""Decoding and resizing input images (what both local backends and validation share)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..errors import InvalidParameterError


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
            image.load()
            return image.convert(mode) if mode else image.copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidParameterError(
            field, f"does not decode as an image ({exc}); pass a PNG, JPEG or WebP file"
        ) from exc


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
