"""CLI mode and Python mode map the same parameters to the same engine: their pictures agree.

The Python binding and sd-cli are separate builds of the same sources, so floats may round differently
(a few pixels off by one); a parameter mapped wrongly (guidance, sampler, scheduler, seed, negative prompt)
changes the picture completely.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from abstractvision import VisionManager
from abstractvision.backends.stable_diffusion_cpp.backend import (
    StableDiffusionCppBackendConfig,
    StableDiffusionCppVisionBackend,
)

pytestmark = [pytest.mark.sdcpp, pytest.mark.slow]

PARAMS = {"width": 64, "height": 64, "steps": 2, "guidance_scale": 5.0, "seed": 9, "negative_prompt": "blurry"}


def generate(model: Path, options: dict, **extra: str) -> Image.Image:
    backend = StableDiffusionCppVisionBackend(StableDiffusionCppBackendConfig(model=str(model), **options))
    with backend:
        asset = VisionManager(backend).generate_image("a red fox", extra=extra, **PARAMS)
    assert asset.metadata["scheduler"] == "euler/karras"
    return Image.open(io.BytesIO(asset.data)).convert("RGB")


def test_python_and_cli_modes_agree(sd1_model: Path, options_for: Callable[[str], dict]) -> None:
    python_options, cli_options = options_for("python"), options_for("cli")
    from_python = generate(sd1_model, python_options, sampler="euler", scheduler="karras")
    from_cli = generate(sd1_model, {**cli_options, "sampler": "euler", "scheduler": "karras"})
    difference = ImageChops.difference(from_python, from_cli)
    assert max(high for _, high in difference.getextrema()) <= 8
    assert max(ImageStat.Stat(difference).mean) < 0.5
