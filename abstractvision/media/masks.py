"""The two inpainting mask conventions.

AbstractVision (and sd-server, diffusers, the SD web UIs): a grey-level image, white = repaint.
OpenAI's images API: an RGBA image whose transparent pixels (alpha 0) mark what to edit.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from .images import decode_image


def white_to_alpha(mask: bytes) -> bytes:
    """A white-means-repaint mask as OpenAI's RGBA mask (alpha = 255 - grey level)."""
    with Image.open(io.BytesIO(mask)) as image:
        grey = image.convert("L")
    rgba = Image.new("RGBA", grey.size, (255, 255, 255, 255))
    rgba.putalpha(ImageOps.invert(grey))
    return _png(rgba)


def to_white_mask(mask: bytes) -> bytes:
    """Either convention as a white-means-repaint PNG: a mask with any transparency is read as OpenAI's.
    Raises ``InvalidParameterError`` naming ``mask`` for bytes that are no image or declare absurd dimensions."""
    image = decode_image("mask", mask)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:
            return _png(ImageOps.invert(alpha))
    return _png(image.convert("L"))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
