"""Every backend config field is classified as identity (decides the output) or placement (where and how fast)."""

from __future__ import annotations

import dataclasses

import pytest

from abstractvision.backends.factory import BACKENDS
from abstractvision.backends.options import IDENTITY, MODEL, PLACEMENT, names_with_role, split_options, unclassified

CONFIGS = {kind: entry.classes()[0] for kind, entry in BACKENDS.items()}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_every_config_field_has_a_role(kind: str) -> None:
    assert unclassified(CONFIGS[kind]) == [], f"classify these {kind} fields as identity() or placement()"


@pytest.mark.parametrize(
    ("kind", "identity", "placement"),
    [
        (
            "diffusers",
            {"scheduler", "loras", "dtype", "safety_checker", "revision", "variant"},
            {"device", "cpu_offload", "vae_slicing", "vae_tiling", "attention_slicing", "allow_download", "cache_dir"}
            | {"threads"},
        ),
        (
            "sdcpp",
            {"sampler", "scheduler", "weight_type", "flow_shift", "vae", "clip_l", "t5xxl", "llm", "lora_dir"},
            {"threads", "offload_to_cpu", "mode", "timeout_s", "sd_cli_path", "model_dir"},
        ),
        ("openai", {"model_id", "profile", "size"}, {"base_url", "api_key", "api_key_env", "timeout_s", "max_retries"}),
    ],
)
def test_output_deciding_fields_are_identity_and_the_rest_placement(
    kind: str, identity: set[str], placement: set[str]
) -> None:
    config = CONFIGS[kind]
    assert identity <= set(names_with_role(config, IDENTITY))
    assert placement <= set(names_with_role(config, PLACEMENT))


def test_only_one_field_names_the_model() -> None:
    assert {kind: names_with_role(cls, MODEL) for kind, cls in CONFIGS.items()} == {
        "diffusers": ("model_id",),
        "sdcpp": ("model",),
        "openai": (),
    }


def test_split_options_separates_the_roles() -> None:
    identity, placement = split_options(CONFIGS["diffusers"], {"scheduler": "ddim", "device": "cpu"})
    assert (identity, placement) == ({"scheduler": "ddim"}, {"device": "cpu"})


def test_configured_defaults_stay_out_of_the_identity() -> None:
    """`dtype: auto` is the same configuration on every machine: it hashes as unset, whatever it resolves to."""
    from abstractvision.backends.huggingface_diffusers import HuggingFaceDiffusersBackendConfig
    from abstractvision.registry import default_registry

    spec = default_registry().get("tiny-sd")
    assert HuggingFaceDiffusersBackendConfig(dtype="auto").job_identity(spec) == {}
    assert HuggingFaceDiffusersBackendConfig(dtype="float16", device="cpu").job_identity(spec) == {"dtype": "float16"}
    assert all(f.metadata for f in dataclasses.fields(HuggingFaceDiffusersBackendConfig))
