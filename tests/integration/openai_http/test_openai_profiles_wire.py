"""What each server profile puts on the wire, read back by a real server on 127.0.0.1, and what the asset records."""

from __future__ import annotations

import base64
import io
import json
import re

from fault_server import Reply
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from abstractvision import VisionManager
from abstractvision.backends.factory import create_backend


def png_with_parameters(text: str) -> bytes:
    """A PNG like sd-server's: the A1111 ``parameters`` chunk carries the seed it used."""
    info = PngInfo()
    info.add_text("parameters", text)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "navy").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def sd_server_answer(seed: int) -> Reply:
    data = base64.b64encode(png_with_parameters(f"a fox\nSteps: 4, Seed: {seed}, Size: 64x64")).decode()
    return Reply(json={"created": 1, "output_format": "png", "data": [{"b64_json": data}]})


def manager(server, **options: object) -> VisionManager:
    return VisionManager(create_backend("openai", "tiny-sd", {"base_url": server.base_url, **options}))


def test_openai_profile_sends_standard_fields_only(fault_server):
    fault_server.script("POST", "/v1/images/generations", sd_server_answer(42))
    asset = manager(fault_server, profile="openai", response_format=None).generate_image(
        "a fox", seed=3, negative_prompt="blurry"
    )
    sent = fault_server.received[0].json()
    assert sent == {"prompt": "a fox", "model": "tiny-sd", "n": 1, "size": "64x64"}
    assert asset.metadata["sent"] == sent
    assert asset.metadata["unsent_params"] == ["guidance_scale", "negative_prompt", "seed", "steps"]
    # The server's PNG says which seed it used, so the seed is known even though it could not be sent.
    assert (asset.metadata["seed"], asset.metadata["seed_source"]) == (42, "server")


def test_openai_profile_without_a_reported_seed_records_none(fault_server):
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    item = {"b64_json": base64.b64encode(jpeg.getvalue()).decode()}
    fault_server.script("POST", "/v1/images/generations", Reply(json={"data": [item]}))
    asset = manager(fault_server, profile="openai").generate_image("a fox", seed=3)
    assert (asset.metadata["seed"], asset.metadata["seed_honoured"]) == (None, False)
    assert asset.mime_type == "image/png" and asset.metadata["response"]["mime_type"] == "image/jpeg"


def test_sdcpp_server_profile_generation_and_edit(fault_server):
    fault_server.script("POST", "/v1/images/generations", sd_server_answer(7))
    fault_server.script("POST", "/v1/images/edits", sd_server_answer(7))
    client = manager(fault_server, profile="sdcpp-server")
    asset = client.generate_image("a fox", seed=7, negative_prompt="blurry")
    sent = fault_server.received[0].json()
    assert set(sent) == {"prompt", "n", "size", "output_format"}
    tag = re.fullmatch(r"a fox<sd_cpp_extra_args>(.*)</sd_cpp_extra_args>", sent["prompt"])
    assert json.loads(tag.group(1)) == {
        "seed": 7,
        "negative_prompt": "blurry",
        "sample_params": {"sample_steps": 4, "guidance": {"txt_cfg": 7.5}},
    }
    assert (asset.metadata["seed"], asset.metadata["seed_source"]) == (7, "server")

    mask = io.BytesIO()
    Image.new("L", (64, 64), 255).save(mask, format="PNG")
    client.edit_image("a fox", asset.data, mask=mask.getvalue(), seed=7, strength=0.5)
    form = fault_server.received[1].form()
    assert form["image[]"][:2] == ("image.png", "image/png")
    assert form["mask"][:2] == ("mask.png", "image/png")
    assert Image.open(io.BytesIO(form["mask"][2])).mode == "L"  # white = repaint, as sd-server reads it
    assert '"strength": 0.5' in form["prompt"][2].decode()


def test_localai_profile(fault_server):
    fault_server.script("POST", "/v1/images/generations", sd_server_answer(1))
    manager(fault_server, profile="localai").generate_image("a fox", seed=1, negative_prompt="blurry")
    sent = fault_server.received[0].json()
    assert (sent["prompt"], sent["seed"], sent["step"]) == ("a fox|blurry", 1, 4)
    assert "guidance_scale" not in sent
