"""A small byte-level BPE vocabulary in CLIP's layout, learnt from a fixed word list (deterministic)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

# Words whose BPE merges make up the tokenizer: the prompts tests and examples use tokenize to real words.
WORDS = (
    "a an the of and with in on at by for to from under over near red green blue yellow orange purple black white "
    "gray brown pink gold silver fox cat dog bird horse fish tree forest river lake mountain sky sun moon star city "
    "street house castle car boat flower garden portrait photo painting drawing sketch style light dark night day "
    "winter summer snow rain cloud sea beach field road bridge robot astronaut dragon quality detailed blurry ugly"
).split()


def write_clip_bpe_files(folder: Path, words: list[str] = WORDS) -> None:
    """A byte-level BPE vocabulary in CLIP's layout: bytes, bytes + ``</w>``, one token per merge, specials."""
    byte_chars = list(_bytes_to_unicode().values())
    merges = _learn_bpe_merges(words)
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
