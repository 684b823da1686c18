"""tiny-ltx-video: a tiny random LTX-Video pipeline (text to video, and image to video from the same folder).

It runs diffusers' real ``LTXPipeline`` and ``LTXImageToVideoPipeline`` on a CPU in about a second, with
the transformer and VAE configuration of diffusers' own LTX tests (MEASURED.md) and the project's tiny T5.
Its VAE compresses 4x in time and space (the real one 8x and 32x), so the family's 8k+1 frames and
multiples of 32 fit it. Built into ``<cache>/models/tiny-ltx-video-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path

from .parts import seeded, t5_encoder, t5_tokenizer

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1


def build_tiny_ltx(folder: Path, *, seed: int) -> Path:
    """Write a random LTX-Video pipeline to ``folder``: a 1-layer transformer, an 8-channel VAE, a 2-layer T5."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer = t5_tokenizer()
    with seeded(seed):
        transformer = LTXVideoTransformer3DModel(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=4,
            attention_head_dim=8,
            cross_attention_dim=32,
            num_layers=1,
            caption_channels=32,
        )
        vae = AutoencoderKLLTXVideo(
            in_channels=3,
            out_channels=3,
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, False, False),
            decoder_spatio_temporal_scaling=(True, True, False, False),
            decoder_inject_noise=(False, False, False, False, False),
            upsample_residual=(False, False, False, False),
            upsample_factor=(1, 1, 1, 1),
            timestep_conditioning=False,
            patch_size=1,
            patch_size_t=1,
            encoder_causal=True,
            decoder_causal=False,
        )
        text_encoder = t5_encoder(tokenizer)
    pipeline = LTXPipeline(
        transformer=transformer,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )
    pipeline.save_pretrained(folder)
    return folder
