"""tiny-animatediff: tiny-sd's components with a tiny random motion adapter (text to video), built offline.

It runs diffusers' real ``AnimateDiffPipeline`` on a CPU in about two seconds (configuration measured in
MEASURED.md). The image part is tiny-sd's (same seed, same weights), so only the motion adapter is new.
Built into ``<cache>/models/tiny-animatediff-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path

from .parts import seeded
from .tiny_sd import tiny_sd_components

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1


def build_tiny_animatediff(folder: Path, *, seed: int) -> Path:
    """Write tiny-sd (built from ``seed``) plus a 1-layer motion adapter to ``folder`` as an ``AnimateDiffPipeline``."""
    from diffusers import AnimateDiffPipeline, MotionAdapter

    components = tiny_sd_components(seed)
    with seeded(seed):
        adapter = MotionAdapter(
            block_out_channels=(32, 64),
            motion_layers_per_block=1,
            motion_transformer_layers_per_block=1,
            motion_num_attention_heads=2,
            motion_norm_num_groups=32,
            motion_max_seq_length=32,
        )
    AnimateDiffPipeline(**components, motion_adapter=adapter).save_pretrained(folder)
    return folder
