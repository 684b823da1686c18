"""tiny-cogvideox-t2v and tiny-cogvideox-i2v: tiny random CogVideoX pipelines, built offline.

They run diffusers' real ``CogVideoXPipeline`` and ``CogVideoXImageToVideoPipeline`` on a CPU in about a
second, with the transformer and VAE configurations of diffusers' own CogVideoX tests (MEASURED.md) and the
project's tiny T5. The text length is the pipelines' default (226 tokens). The image-to-video one has
rotary positions but not the tests' learned ones, which would tie it to a single size (16x16). Each is
built from a fixed seed into ``<cache>/models/<name>-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .parts import seeded, t5_encoder, t5_tokenizer

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1
TEXT_LENGTH = 226

#: name -> image to video?
MODELS: dict[str, bool] = {"tiny-cogvideox-t2v": False, "tiny-cogvideox-i2v": True}

#: the transformer's configuration per task, as diffusers' tests have it (I2V: rotary positions)
_TRANSFORMERS: dict[bool, dict[str, Any]] = {
    False: {"num_attention_heads": 4, "attention_head_dim": 8, "in_channels": 4},
    True: {
        "num_attention_heads": 2,
        "attention_head_dim": 16,
        "in_channels": 8,
        "use_rotary_positional_embeddings": True,
    },
}


def build_tiny_cogvideox(folder: Path, *, seed: int, image_to_video: bool) -> Path:
    """Write a random CogVideoX pipeline to ``folder``: a 1-layer transformer, an 8-channel VAE, a 2-layer T5."""
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel

    tokenizer = t5_tokenizer()
    with seeded(seed):
        transformer = CogVideoXTransformer3DModel(
            **_TRANSFORMERS[image_to_video],
            out_channels=4,
            time_embed_dim=2,
            text_embed_dim=32,
            num_layers=1,
            sample_width=2,
            sample_height=2,
            sample_frames=9,
            patch_size=2,
            temporal_compression_ratio=4,
            max_text_seq_length=TEXT_LENGTH,
        )
        vae = AutoencoderKLCogVideoX(
            in_channels=3,
            out_channels=3,
            down_block_types=("CogVideoXDownBlock3D",) * 4,
            up_block_types=("CogVideoXUpBlock3D",) * 4,
            block_out_channels=(8, 8, 8, 8),
            latent_channels=4,
            layers_per_block=1,
            norm_num_groups=2,
            temporal_compression_ratio=4,
        )
        text_encoder = t5_encoder(tokenizer)
    if image_to_video:
        from diffusers import CogVideoXImageToVideoPipeline as pipeline_class
    else:
        from diffusers import CogVideoXPipeline as pipeline_class
    components = {"transformer": transformer, "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer}
    pipeline_class(**components, scheduler=CogVideoXDDIMScheduler()).save_pretrained(folder)
    return folder
