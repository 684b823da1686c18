"""The models the benchmarks run, as diffusers pipeline folders that every contender loads alike."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from abstractvision.builtin import builder_version, cache_root, ensure_builtin
from abstractvision.builtin.atomic_build import build_once

SD1_COMPONENTS = ("unet", "vae", "text_encoder", "scheduler")


def tiny_sd() -> Path:
    """The built-in tiny-sd pipeline folder (about 6 MB)."""
    return ensure_builtin("tiny-sd")


def sd1_pipeline() -> Path:
    """The built-in 1 GB SD1.x-layout model as a full diffusers pipeline folder.

    The built-in folder holds only the weights that stable-diffusion.cpp reads; this one links them and
    adds what ``StableDiffusionPipeline.from_pretrained`` also needs: ``model_index.json`` and a
    tokenizer (tiny-sd's, whose token ids all lie inside the SD1 vocabulary).
    """
    weights, tiny = ensure_builtin("sd1-layout"), tiny_sd()
    target = cache_root() / "bench" / f"sd1-layout-pipeline-v{builder_version('sd1-layout')}"

    def link(folder: Path) -> None:
        for name in SD1_COMPONENTS:
            os.symlink(weights / name, folder / name)
        shutil.copytree(tiny / "tokenizer", folder / "tokenizer")
        shutil.copy(tiny / "model_index.json", folder / "model_index.json")

    return build_once(target, link, {"name": "sd1-layout-pipeline", "weights": str(weights)})
