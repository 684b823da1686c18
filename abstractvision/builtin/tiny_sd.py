"""tiny-sd: a tiny random SD1-style diffusers pipeline the project builds itself (about 6 MB, about a second).

Its pictures are noise, but it runs the real libraries end to end, which is what tests, CI and the
offline default need. Each model is built from a fixed seed, so every machine builds the same weights
(within one torch version), and cached under ``<cache>/models/<name>-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError
from .atomic_build import build_model_once
from .cache import cache_root
from .clip_tokenizer import write_clip_bpe_files
from .parts import seeded

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1

#: name -> torch seed of its random weights
BUILTIN_MODELS: dict[str, int] = {"tiny-sd": 0, "tiny-sd-alt": 1}


def builtin_model_path(name: str) -> Path:
    """Where built model ``name`` lives (whether or not it is built yet)."""
    _check_name(name)
    return cache_root() / "models" / f"{name}-v{BUILDER_VERSION}"


def ensure_builtin_model(name: str) -> Path:
    """The folder of built-in model ``name`` (a diffusers pipeline), building it on first use."""
    seed = BUILTIN_MODELS[_check_name(name)]
    return build_model_once(name, BUILDER_VERSION, seed, lambda folder: build_tiny_sd(folder, seed=seed))


def build_tiny_sd(folder: str | os.PathLike[str], *, seed: int) -> Path:
    """Write a random SD1-style diffusers pipeline to ``folder`` (configs measured in MEASURED.md)."""
    from diffusers import StableDiffusionPipeline

    pipeline = StableDiffusionPipeline(
        **tiny_sd_components(seed), safety_checker=None, feature_extractor=None, requires_safety_checker=False
    )
    pipeline.save_pretrained(folder)
    return Path(folder)


def tiny_sd_components(seed: int) -> dict[str, Any]:
    """tiny-sd's UNet, VAE, CLIP text encoder, tokenizer and scheduler (AnimateDiff builds on them too)."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    with tempfile.TemporaryDirectory() as tokenizer_dir:
        write_clip_bpe_files(Path(tokenizer_dir))
        # transformers 5 ignores vocab_file/merges_file given to the constructor: load from the folder.
        tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir, model_max_length=77)
    with seeded(seed):
        unet = UNet2DConditionModel(
            sample_size=32,
            in_channels=4,
            out_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=32,
            attention_head_dim=8,
            norm_num_groups=32,
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
            up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
            norm_num_groups=32,
            sample_size=64,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=1000,
                hidden_size=32,
                intermediate_size=37,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=77,
                projection_dim=32,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet, "scheduler": scheduler}


def _check_name(name: str) -> str:
    if name not in BUILTIN_MODELS:
        raise ModelNotFoundError(
            f"unknown built-in model {name!r}; built-in models are {sorted(BUILTIN_MODELS)}", model=name
        )
    return name
