"""Job ids and seeds: canonical, independent of order and position, stable across processes."""

from __future__ import annotations

import random
from typing import Any

from abstractvision.pipeline.jobs import JobEncoder, canonical_json, derive_seed, job_id_of, job_identity

BASE = {"prompt": "a red fox", "width": 64, "height": 64, "steps": 4, "guidance_scale": 7.5}


def reference(identity: dict[str, Any], seed: int | None, base_seed: int = 0) -> tuple[str, int, str]:
    """The identity rule written plainly: the id hashes the canonical JSON; a missing seed derives from the rest."""
    if seed is None:
        seed = derive_seed(base_seed, canonical_json(identity))
    text = canonical_json({**identity, "seed": seed})
    return job_id_of(text), seed, text


def fox(options: dict[str, Any] | None = None, base_seed: int = 0, **params: Any) -> tuple[str, int, str]:
    identity = job_identity("diffusers", "tiny-sd", "builtin:tiny-sd", options or {}, "text_to_image", BASE | params)
    return reference(identity, None, base_seed)


def test_canonical_json_sorts_keys_without_spaces() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2.5, "c": "é"}}) == '{"a":{"c":"é","d":2.5},"b":1}'


def test_same_config_same_id_and_seed_in_any_key_order() -> None:
    reordered = dict(reversed(list(BASE.items())))
    identity = job_identity("diffusers", "tiny-sd", "builtin:tiny-sd", {}, "text_to_image", reordered)
    assert reference(identity, None)[:2] == fox()[:2]


def test_pinned_id_and_seed() -> None:
    """The identity serialisation (version 2) is a stable interface: these values must never change."""
    job_id, seed, text = fox()
    assert text.startswith('{"backend":"diffusers","model":"tiny-sd","model_source":"builtin:tiny-sd","options":{}')
    assert (job_id, seed) == ("1c946f23c615d9c06529", 4082550200)


def test_output_deciding_options_change_the_id_and_the_derived_seed() -> None:
    plain = fox()
    for options in ({"scheduler": "euler_a"}, {"dtype": "float16"}, {"loras": [{"name": "a", "weight": 1.0}]}):
        changed = fox(options)
        assert changed[0] != plain[0] and changed[1] != plain[1], options


def test_derived_seed_depends_on_content_and_base_seed_only() -> None:
    assert fox()[1] == fox()[1]
    assert fox()[1] != fox(prompt="a blue fox")[1]
    assert fox(base_seed=1)[1] != fox()[1]
    assert 0 <= fox()[1] < 2**32


def test_explicit_seed_is_kept_and_changes_the_id() -> None:
    identity = job_identity("diffusers", "tiny-sd", "s", {}, "text_to_image", {"prompt": "x"})
    a, b = reference(identity, 7), reference(identity, 8)
    assert a[1] == 7 and a[0] != b[0]


def test_none_values_are_left_out() -> None:
    assert fox(negative_prompt=None)[0] == fox()[0]


def test_encoder_is_byte_identical_to_the_plain_rule() -> None:
    rng = random.Random(0)
    options = {"scheduler": "ddim", "loras": [{"name": "x", "weight": 0.5, "file": "sha256:ab"}]}
    encoder = JobEncoder("diffusers", "tiny-sd", "builtin:tiny-sd", options, "text_to_image")
    for _ in range(200):
        params = {
            "prompt": rng.choice(["a fox", "ünïcode ✓", 'quote " and \\ slash']),
            "guidance_scale": rng.choice([0.0, 5.0, 7.5]),
            "width": rng.choice([64, 128]),
            "extra": rng.choice([None, {"scheduler": "ddim", "a": [1, 2]}]),
        }
        seed = rng.choice([None, 0, 5, 2**40])
        identity = job_identity("diffusers", "tiny-sd", "builtin:tiny-sd", options, "text_to_image", params)
        pieces = [JobEncoder.piece(k, v) for k, v in params.items() if v is not None]
        assert encoder.encode(pieces, seed, 3) == reference(identity, seed, 3)
