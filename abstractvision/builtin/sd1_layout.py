"""A random model with the real SD1.x tensor layout, for testing the stable-diffusion.cpp backend offline.

stable-diffusion.cpp recognises architectures by tensor names and shapes, so it cannot load the tiny
models in ``tiny_sd``. This builder writes the "tiny UNet" variant measured in MEASURED.md: the
SD1.x text encoder and VAE, a UNet with SD1.x block widths but one layer per block and no mid block
(about 1 GB in fp16, about 12 s). Its pictures are noise, but every code path of the library runs.

The folder is a diffusers layout (``unet/``, ``vae/``, ``text_encoder/`` safetensors), cached under
``<cache>/models/sd1-layout-v<SD1_LAYOUT_VERSION>`` and built atomically like the tiny models.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BackendUnavailableError
from .atomic_build import build_once
from .cache import cache_root

#: Bump when a build would produce different files; old caches are then simply ignored.
SD1_LAYOUT_VERSION = 1
SD1_LAYOUT_SEED = 0


def sd1_layout_model_path() -> Path:
    """Where the SD1.x-layout test model lives (whether or not it is built yet)."""
    return cache_root() / "models" / f"sd1-layout-v{SD1_LAYOUT_VERSION}"


def ensure_sd1_layout_model() -> Path:
    """The folder of the SD1.x-layout test model, building it on first use (about 12 s, 1 GB)."""
    info = {"name": "sd1-layout", "builder_version": SD1_LAYOUT_VERSION, "seed": SD1_LAYOUT_SEED}
    return build_once(sd1_layout_model_path(), lambda folder: build_sd1_layout(folder, seed=SD1_LAYOUT_SEED), info)


def build_sd1_layout(folder: str | os.PathLike[str], *, seed: int = SD1_LAYOUT_SEED) -> Path:
    """Write random SD1.x-layout UNet, VAE and text encoder (fp16 safetensors) to ``folder``."""
    try:
        import torch
        from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
        from safetensors.torch import load_file, save_file
        from transformers import CLIPTextConfig, CLIPTextModel
    except ImportError as exc:
        raise BackendUnavailableError(
            f"building the SD1.x-layout test model needs torch, diffusers and transformers ({exc.name} is missing); "
            "install them with: pip install 'abstractvision[diffusers]'"
        ) from exc

    folder = Path(folder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=64,
            cross_attention_dim=768,
            block_out_channels=(320, 640, 1280),
            layers_per_block=1,
            down_block_types=("CrossAttnDownBlock2D",) * 3,
            up_block_types=("CrossAttnUpBlock2D",) * 3,
            mid_block_type=None,
            attention_head_dim=8,
        )
        vae = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            latent_channels=4,
            sample_size=512,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=49408,
                hidden_size=768,
                intermediate_size=3072,
                num_hidden_layers=12,
                num_attention_heads=12,
                max_position_embeddings=77,
                hidden_act="quick_gelu",
                projection_dim=768,
            )
        )
    for name, module in (("unet", unet), ("vae", vae), ("text_encoder", text_encoder)):
        module.to(torch.float16).save_pretrained(folder / name, safe_serialization=True)
    DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear").save_pretrained(
        folder / "scheduler"
    )
    # transformers 5 saves the text encoder without the ``text_model.`` prefix that stable-diffusion.cpp
    # looks for (``te.text_model.embeddings.token_embedding.weight``); diffusers loads either form.
    weights_path = folder / "text_encoder" / "model.safetensors"
    weights = load_file(weights_path)
    save_file({_with_text_model_prefix(k): v for k, v in weights.items()}, weights_path, metadata={"format": "pt"})
    return folder


def _with_text_model_prefix(key: str) -> str:
    return key if key.startswith("text_model.") or key.startswith("text_projection") else f"text_model.{key}"
