"""Tiny random diffusers pipelines the project builds itself: no network, about 6 MB, about a second.

Their pictures are noise, but they run the real libraries end to end, which is what tests, CI and the
offline default need. Each model is built from a fixed seed, so every machine builds the same weights
(within one torch version), and cached under ``<cache>/models/<name>-v<BUILDER_VERSION>``. A build goes
to a temporary folder that is renamed into place when complete, so concurrent builders race safely
(the loser throws its copy away) and a killed build never leaves a half-written model folder behind.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import BackendUnavailableError, ModelNotFoundError

#: Bump when a build would produce different files; old caches are then simply ignored.
BUILDER_VERSION = 1

#: name -> torch seed of its random weights
BUILTIN_MODELS: dict[str, int] = {"tiny-sd": 0, "tiny-sd-alt": 1}

MARKER_FILE = "abstractvision-builder.json"
STALE_TEMP_SECONDS = 3600

# Words whose BPE merges make up the tokenizer: the prompts tests and examples use tokenize to real words.
_WORDS = (
    "a an the of and with in on at by for to from under over near red green blue yellow orange purple black white "
    "gray brown pink gold silver fox cat dog bird horse fish tree forest river lake mountain sky sun moon star city "
    "street house castle car boat flower garden portrait photo painting drawing sketch style light dark night day "
    "winter summer snow rain cloud sea beach field road bridge robot astronaut dragon quality detailed blurry ugly"
).split()


def cache_root() -> Path:
    """``$ABSTRACTVISION_CACHE`` if set, else ``$XDG_CACHE_HOME/abstractvision`` or ``~/.cache/abstractvision``."""
    if os.environ.get("ABSTRACTVISION_CACHE"):
        return Path(os.environ["ABSTRACTVISION_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "abstractvision"


def builtin_model_path(name: str) -> Path:
    """Where built model ``name`` lives (whether or not it is built yet)."""
    _check_name(name)
    return cache_root() / "models" / f"{name}-v{BUILDER_VERSION}"


def ensure_builtin_model(name: str) -> Path:
    """The folder of built-in model ``name`` (a diffusers pipeline), building it on first use."""
    seed = BUILTIN_MODELS[_check_name(name)]
    info = {"name": name, "builder_version": BUILDER_VERSION, "seed": seed}
    return build_once(builtin_model_path(name), lambda folder: build_tiny_sd(folder, seed=seed), info)


def build_once(target: Path, build: Callable[[Path], object], info: dict[str, object]) -> Path:
    """Make ``target`` with ``build(folder)`` unless a complete build is already there.

    The build writes into a temporary sibling folder, adds a marker file holding ``info`` and is renamed
    to ``target``: a folder at ``target`` is therefore always complete. Concurrent builders race on
    the rename and the loser discards its copy; no lock is needed.
    """
    if (target / MARKER_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(target.parent)
    temp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        build(temp)
        (temp / MARKER_FILE).write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
        try:
            os.rename(temp, target)
        except OSError:
            if not (target / MARKER_FILE).is_file():  # not another builder's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def build_tiny_sd(folder: str | os.PathLike[str], *, seed: int) -> Path:
    """Write a random SD1-style diffusers pipeline to ``folder`` (configs measured in MEASURED.md)."""
    try:
        import torch
        from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    except ImportError as exc:
        raise BackendUnavailableError(
            f"building the tiny models needs torch, diffusers and transformers ({exc.name} is missing); "
            "install them with: pip install 'abstractvision[diffusers]'"
        ) from exc

    folder = Path(folder)
    tokenizer_dir = folder / "tokenizer_source"
    _write_clip_bpe_files(tokenizer_dir)
    # transformers 5 ignores vocab_file/merges_file given to the constructor: load from the folder.
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir, model_max_length=77)
    shutil.rmtree(tokenizer_dir)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    from ..backends.diffusers_loading import quiet_progress_bars

    with quiet_progress_bars():
        pipeline.save_pretrained(folder)
    return folder


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

    unet = UNet2DConditionModel.from_pretrained(ensure_builtin_model("tiny-sd") / "unet")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        targets = ["to_q", "to_k", "to_v", "to_out.0"]
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=layers, safe_serialization=True)
    return Path(folder) / "pytorch_lora_weights.safetensors"


def _write_clip_bpe_files(folder: Path) -> None:
    """A byte-level BPE vocabulary in CLIP's layout: bytes, bytes + ``</w>``, one token per merge, specials."""
    byte_chars = list(_bytes_to_unicode().values())
    merges = _learn_bpe_merges(_WORDS)
    vocab = [*byte_chars, *(c + "</w>" for c in byte_chars), *(a + b for a, b in merges)]
    vocab.extend(["<|startoftext|>", "<|endoftext|>"])
    folder.mkdir(parents=True, exist_ok=True)
    ids = {token: i for i, token in enumerate(dict.fromkeys(vocab))}
    (folder / "vocab.json").write_text(json.dumps(ids), encoding="utf-8")
    lines = ["#version: 0.2", *(f"{a} {b}" for a, b in merges)]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _learn_bpe_merges(words: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """Train BPE on ``words`` until each is one token (ties broken by the pair, so it is deterministic).

    Encoding applies merges in this order, which replays the training: every word becomes one token.
    """
    pieces = [[*word[:-1], word[-1] + "</w>"] for word in dict.fromkeys(words)]
    merges: list[tuple[str, str]] = []
    while True:
        counts: dict[tuple[str, str], int] = {}
        for word in pieces:
            for pair in itertools.pairwise(word):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return merges
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(best)
        for word in pieces:
            i = 0
            while i < len(word) - 1:
                if (word[i], word[i + 1]) == best:
                    word[i : i + 2] = [word[i] + word[i + 1]]
                i += 1


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(mapping.items()))


def _remove_stale_temp_dirs(models_dir: Path) -> None:
    """Drop temporary build folders left by killed builders (never a fresh one: it may be in progress)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in models_dir.glob(".tmp-*"):
        try:
            if temp.stat().st_mtime < cutoff:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            continue


def _check_name(name: str) -> str:
    if name not in BUILTIN_MODELS:
        raise ModelNotFoundError(
            f"unknown built-in model {name!r}; built-in models are {sorted(BUILTIN_MODELS)}", model=name
        )
    return name
