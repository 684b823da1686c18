"""Pieces the tiny builders share: seeded construction and the small T5 text stack of Wan, LTX and CogVideoX.

One definition each, so that every tiny model built on them is the same text stack from the same seed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .clip_tokenizer import WORDS


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Random weights made inside come from ``seed``, without touching the caller's torch RNG state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def t5_tokenizer() -> Any:
    """A small T5 (unigram) tokenizer over the tiny models' word list: specials, ``▁`` words, single letters."""
    from transformers import T5Tokenizer

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = ["<pad>", "</s>", "<unk>", *(f"▁{w}" for w in WORDS), "▁", *letters]
    vocab = [(piece, 0.0 if i < 3 else -float(i)) for i, piece in enumerate(dict.fromkeys(pieces))]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def t5_encoder(tokenizer: Any, *, umt5: bool = False) -> Any:
    """A 2-layer T5 encoder (d_model 32) for ``tokenizer``; ``umt5``: Wan's UMT5 class, same configuration."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    return model_class(
        config_class(
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
