"""PNG encoding with provenance.

Two text chunks: ``parameters`` in the layout the common Stable Diffusion web UIs write and read
(prompt, ``Negative prompt:``, then ``Key: value`` pairs), and ``abstractvision`` with the full
JSON record. Timings are left out so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .samplers import web_ui_sampler

PARAMETERS_KEY = "parameters"
RECORD_KEY = "abstractvision"
NON_DETERMINISTIC_KEYS = ("timings",)


def a1111_parameters(metadata: Mapping[str, Any]) -> str:
    """The web-UI ``parameters`` text for an asset's metadata."""
    params = metadata.get("params", {})
    lines = [str(params.get("prompt") or "")]
    if params.get("negative_prompt"):
        lines.append(f"Negative prompt: {params['negative_prompt']}")
    fields = {
        "Steps": params.get("steps"),
        "Sampler": web_ui_sampler(str(metadata["scheduler"])) if metadata.get("scheduler") else None,
        "CFG scale": params.get("guidance_scale"),
        "Seed": metadata.get("seed"),
        "Size": f"{params['width']}x{params['height']}" if params.get("width") else None,
        "Denoising strength": params.get("strength"),
        "Model": metadata.get("model"),
        "Backend": metadata.get("backend"),
    }
    lines.append(", ".join(f"{key}: {value}" for key, value in fields.items() if value is not None))
    return "\n".join(lines)


def deterministic_record(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in NON_DETERMINISTIC_KEYS}


def encode_png(image: Image.Image, metadata: Mapping[str, Any]) -> bytes:
    """Encode ``image`` as PNG carrying ``metadata`` in text chunks."""
    info = PngInfo()
    info.add_text(PARAMETERS_KEY, a1111_parameters(metadata))
    info.add_text(RECORD_KEY, json.dumps(deterministic_record(metadata), sort_keys=True, default=str))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def read_png_text(data: bytes) -> dict[str, str]:
    """The text chunks of a PNG file."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(getattr(image, "text", {}))


def read_png_record(data: bytes) -> dict[str, Any]:
    """The ``abstractvision`` JSON record embedded by ``encode_png``."""
    return json.loads(read_png_text(data)[RECORD_KEY])
