"""Server profiles put each parameter where that server family reads it, and say what they could not send."""

from __future__ import annotations

import json
import re

import pytest

from abstractvision.backends.openai_compatible.profiles import PROFILES

PARAMS = {"negative_prompt": "blurry", "seed": 7, "steps": 4, "guidance_scale": 5.0, "strength": None}


def test_openai_profile_is_strict_and_reports_the_rest_as_unsent():
    fields, unsent = PROFILES["openai"].map_params("a fox", PARAMS)
    assert fields == {"prompt": "a fox"}
    assert unsent == ["guidance_scale", "negative_prompt", "seed", "steps"]
    assert not PROFILES["openai"].seed_honoured


@pytest.mark.parametrize(("profile", "steps_field"), [("generic", "steps"), ("vllm-omni", "num_inference_steps")])
def test_generic_and_vllm_omni_send_extensions_in_the_body(profile, steps_field):
    fields, unsent = PROFILES[profile].map_params("a fox", PARAMS)
    assert fields == {"prompt": "a fox", "negative_prompt": "blurry", "seed": 7, steps_field: 4, "guidance_scale": 5.0}
    assert unsent == [] and PROFILES[profile].seed_honoured


def test_sdcpp_server_puts_extensions_in_the_prompt_tag():
    profile = PROFILES["sdcpp-server"]
    fields, unsent = profile.map_params("a fox", {**PARAMS, "strength": 0.6, "num_frames": 8})
    match = re.fullmatch(r"a fox<sd_cpp_extra_args>(.*)</sd_cpp_extra_args>", fields.pop("prompt"))
    assert match is not None
    assert json.loads(match.group(1)) == {
        "seed": 7,
        "negative_prompt": "blurry",
        "strength": 0.6,
        "sample_params": {"sample_steps": 4, "guidance": {"txt_cfg": 5.0}},
    }
    assert fields == {"output_format": "png"}  # sd-server ignores model and response_format: not sent
    assert unsent == ["num_frames"]
    assert (profile.sends_model, profile.sends_response_format, profile.mask_alpha) == (False, False, False)
    assert profile.edit_image_field == "image[]"


def test_sdcpp_server_without_extensions_sends_the_plain_prompt():
    fields, _ = PROFILES["sdcpp-server"].map_params("a fox", {})
    assert fields["prompt"] == "a fox"


def test_localai_splits_the_negative_prompt_with_a_bar():
    fields, unsent = PROFILES["localai"].map_params("a fox", PARAMS)
    assert fields == {"prompt": "a fox|blurry", "seed": 7, "step": 4}
    assert unsent == ["guidance_scale"]
    assert not PROFILES["localai"].seed_honoured
