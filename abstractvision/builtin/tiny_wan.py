"""tiny-wan-t2v and tiny-wan-i2v: tiny random Wan 2.x pipelines (text to video, image to video), built offline.

Like tiny-sd, their frames are noise, but they run diffusers' real ``WanPipeline`` and
``WanImageToVideoPipeline`` end to end on a CPU in a fraction of a second (configurations measured in
MEASURED.md). Each is built from a fixed seed into ``<cache>/models/<name>-v<BUILDER_VERSION>``.
"""

from __future__ import annotations

from pathlib import Path

from .atomic_build import build_once
from .cache import cache_root
from .clip_tokenizer import WORDS
from .requirements import libraries_missing

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1

#: name -> (torch seed of its random weights, image to video?)
MODELS: dict[str, tuple[int, bool]] = {"tiny-wan-t2v": (0, False), "tiny-wan-i2v": (0, True)}


def ensure_tiny_wan(name: str) -> Path:
    """The folder of built-in Wan model ``name``, building it on first use."""
    seed, image_to_video = MODELS[name]
    info = {"name": name, "builder_version": BUILDER_VERSION, "seed": seed}
    target = cache_root() / "models" / f"{name}-v{BUILDER_VERSION}"
    return build_once(target, lambda folder: build_tiny_wan(folder, seed=seed, image_to_video=image_to_video), info)


def build_tiny_wan(folder: Path, *, seed: int, image_to_video: bool) -> Path:
    """Write a random Wan pipeline to ``folder``: a 2-layer transformer, a base-dim-3 VAE, a 2-layer UMT5."""
    try:
        import torch
        from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
        from transformers import UMT5Config, UMT5EncoderModel
    except ImportError as exc:
        raise libraries_missing(exc) from exc

    tokenizer = _t5_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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
        text_encoder = UMT5EncoderModel(
            UMT5Config(
                vocab_size=tokenizer.vocab_size,
                d_model=32,
                d_kv=8,
                d_ff=37,
                num_layers=2,
                num_heads=4,
                relative_attention_num_buckets=8,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                decoder_start_token_id=tokenizer.pad_token_id,
            )
        )
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


def _t5_tokenizer():
    """A small T5 (unigram) tokenizer over the tiny models' word list: specials, ``▁`` words, single letters."""
    from transformers import T5Tokenizer

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = ["<pad>", "</s>", "<unk>", *(f"▁{w}" for w in WORDS), "▁", *letters]
    vocab = [(piece, 0.0 if i < 3 else -float(i)) for i, piece in enumerate(dict.fromkeys(pieces))]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


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
