"""A random LoRA for tiny-sd, for tests of adapter loading and weights."""

from __future__ import annotations

import os
from pathlib import Path

from ..builtin import ensure_builtin


def build_tiny_lora(folder: str | os.PathLike[str], *, seed: int = 0, rank: int = 4) -> Path:
    """Write a random LoRA for tiny-sd's UNet (diffusers LoRA format) to ``folder``; returns the weights file.

    Its weights are random, not trained: at weight 1 it visibly changes tiny-sd's output, at weight 0
    it leaves it unchanged, which is what a LoRA test needs to show.
    """
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(ensure_builtin("tiny-sd") / "unet")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        targets = ["to_q", "to_k", "to_v", "to_out.0"]
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=layers, safe_serialization=True)
    return Path(folder) / "pytorch_lora_weights.safetensors"
