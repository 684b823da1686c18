"""tiny-wan-t2v and tiny-wan-i2v: tiny random Wan 2.x pipelines (text to video, image to video), built offline.

Like tiny-sd, their frames are noise, but they run diffusers' real ``WanPipeline`` and
``WanImageToVideoPipeline`` end to end on a CPU in a fraction of a second (configurations measured in
MEASURED.md). Each is built from a fixed seed into ``<cache>/models/<name>-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path

from .parts import seeded, t5_encoder, t5_tokenizer

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1

#: name -> (torch seed of its random weights, image to video?)
MODELS: dict[str, tuple[int, bool]] = {"tiny-wan-t2v": (0, False), "tiny-wan-i2v": (0, True)}


def build_tiny_wan(folder: Path, *, seed: int, image_to_video: bool) -> Path:
    """Write a random Wan pipeline to ``folder``: a 2-layer transformer, a base-dim-3 VAE, a 2-layer UMT5."""
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel

    tokenizer = t5_tokenizer()
    with seeded(seed):
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=36 if image_to_video else 16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
            image_dim=4 if image_to_video else None,
        )
        vae = AutoencoderKLWan(
            base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
        )
        text_encoder = t5_encoder(tokenizer, umt5=True)
        components = {"transformer": transformer, "vae": vae, "text_encoder": text_encoder}
        if image_to_video:
            components.update(_image_encoder())
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    if image_to_video:
        from diffusers import WanImageToVideoPipeline as pipeline_class
    else:
        from diffusers import WanPipeline as pipeline_class
    pipeline = pipeline_class(tokenizer=tokenizer, scheduler=scheduler, **components)
    pipeline.save_pretrained(folder)
    return folder


def _image_encoder() -> dict[str, object]:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
            image_size=32,
            patch_size=1,
        )
    )
    processor = CLIPImageProcessor(crop_size=32, size=32)
    return {"image_encoder": encoder, "image_processor": processor}
