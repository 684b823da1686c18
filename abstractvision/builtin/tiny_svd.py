"""tiny-svd: a tiny random Stable Video Diffusion pipeline (image to video, no prompt), built offline.

Its frames are noise, but it runs diffusers' real ``StableVideoDiffusionPipeline`` on a CPU in about a
second (configuration measured in MEASURED.md; the image encoder takes 224x224, as the pipeline resizes
to it). Built from a fixed seed into ``<cache>/models/tiny-svd-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path

from .parts import seeded

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1


def build_tiny_svd(folder: Path, *, seed: int) -> Path:
    """Write a random SVD pipeline to ``folder``: spatio-temporal UNet, temporal-decoder VAE, CLIP image encoder."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    with seeded(seed):
        unet = UNetSpatioTemporalConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=2,
            sample_size=32,
            in_channels=8,
            out_channels=4,
            down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            cross_attention_dim=32,
            num_attention_heads=8,
            projection_class_embeddings_input_dim=96,
            addition_time_embed_dim=32,
        )
        vae = AutoencoderKLTemporalDecoder(
            block_out_channels=[32, 64],
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
            latent_channels=4,
        )
        image_encoder = CLIPVisionModelWithProjection(
            CLIPVisionConfig(
                hidden_size=32,
                projection_dim=32,
                num_hidden_layers=2,
                num_attention_heads=4,
                image_size=224,
                intermediate_size=37,
                patch_size=32,
            )
        )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    processor = CLIPImageProcessor(crop_size=224, size=224)
    pipeline = StableVideoDiffusionPipeline(
        vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler, feature_extractor=processor
    )
    pipeline.save_pretrained(folder)
    return folder
