"""The HTTP backend against ``abstractvision serve`` running tiny-sd in a subprocess (real HTTP, real model)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image

from abstractvision import BackendResponseError, ImageGenerationRequest, VisionManager
from abstractvision.backends.factory import create_backend
from abstractvision.media.masks import to_white_mask, white_to_alpha
from abstractvision.media.png import read_png_record

pytestmark = pytest.mark.slow


def manager(server, **options: object) -> VisionManager:
    options = {"base_url": server.base_url, "api_key": server.api_key, **options}
    return VisionManager(create_backend("openai", "tiny-sd", options))


def mask_png() -> bytes:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def test_text_to_image_records_exactly_what_was_sent(tiny_sd_server):
    asset = manager(tiny_sd_server).generate_image("a red fox", seed=5)
    metadata = asset.metadata
    assert metadata["sent"] == {
        "prompt": "a red fox",
        "seed": 5,
        "steps": 4,
        "guidance_scale": 7.5,
        "model": "tiny-sd",
        "n": 1,
        "size": "64x64",
        "response_format": "b64_json",
    }
    assert (metadata["seed"], metadata["seed_honoured"], metadata["seed_source"]) == (5, True, "server")
    assert metadata["unsent_params"] == []
    assert metadata["server_metadata"]["backend"] == "diffusers"
    assert metadata["server_metadata"]["seed"] == 5
    assert read_png_record(asset.data)["seed"] == 5  # the PNG carries the client's record
    assert tiny_sd_server.api_key not in json.dumps(metadata)
    with Image.open(io.BytesIO(asset.data)) as image:
        assert image.size == (64, 64)


def test_same_seed_same_bytes_and_url_answers_match_b64(tiny_sd_server):
    client = manager(tiny_sd_server)
    first = client.generate_image("a red fox", seed=11)
    again = client.generate_image("a red fox", seed=11)
    other = client.generate_image("a red fox", seed=12)
    by_url = manager(tiny_sd_server, response_format="url").generate_image("a red fox", seed=11)
    assert first.data == again.data
    assert other.metadata["response"]["sha256"] != first.metadata["response"]["sha256"]
    assert by_url.metadata["response"]["format"] == "url"
    assert by_url.metadata["response"]["sha256"] == first.metadata["response"]["sha256"]


def test_n_images_use_consecutive_seeds(tiny_sd_server):
    client = manager(tiny_sd_server)
    request = client.prepare("text_to_image", ImageGenerationRequest(prompt="a red fox", seed=20))
    assets = client.backend.generate_images(request, n=3)
    assert [a.metadata["seed"] for a in assets] == [20, 21, 22]
    assert [a.metadata["image_index"] for a in assets] == [0, 1, 2]
    assert assets[0].metadata["sent"]["n"] == 3
    single = client.generate_image("a red fox", seed=21)
    assert single.metadata["response"]["sha256"] == assets[1].metadata["response"]["sha256"]


def test_image_to_image_without_and_with_mask(tiny_sd_server):
    client = manager(tiny_sd_server)
    source = client.generate_image("a red fox", seed=1).data
    edited = client.edit_image("a blue bird", source, seed=2, strength=0.6)
    server = edited.metadata["server_metadata"]
    assert server["task"] == "image_to_image" and server["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert server["params"]["strength"] == 0.6
    assert edited.metadata["sent"]["files"][0] | {"bytes": 0, "sha256": ""} == {
        "field": "image",
        "filename": "image.png",
        "mime_type": "image/png",
        "bytes": 0,
        "sha256": "",
    }
    inpainted = client.edit_image("a blue bird", source, mask=mask_png(), seed=2, strength=0.6)
    server = inpainted.metadata["server_metadata"]
    assert server["pipeline"] == "StableDiffusionInpaintPipeline"
    assert inpainted.metadata["sent"]["mask_convention"] == "alpha"
    # The mask went over the wire as OpenAI's RGBA mask and reached the model as the same white mask.
    expected = hashlib.sha256(to_white_mask(white_to_alpha(mask_png()))).hexdigest()
    assert server["params"]["mask_sha256"] == expected
    assert inpainted.data != edited.data


def test_auth_accepted_only_with_the_right_key(tiny_sd_server):
    assert manager(tiny_sd_server).generate_image("a red fox", seed=3).metadata["seed"] == 3
    for key in (None, "sk-wrong-key"):
        with pytest.raises(BackendResponseError) as info:
            manager(tiny_sd_server, api_key=key).generate_image("a red fox", seed=3)
        assert info.value.status_code == 401
        assert "Authorization: Bearer" in str(info.value)
        assert tiny_sd_server.api_key not in str(info.value)
