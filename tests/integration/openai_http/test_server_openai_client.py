"""The official ``openai`` Python client against ``abstractvision serve`` (tiny-sd in a subprocess), called the
way users of OpenAI-shaped servers call it."""

from __future__ import annotations

import base64
import io

import openai
import pytest
import requests
from PIL import Image

from abstractvision.media.png import read_png_record

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tiny_sd_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=tiny_sd_server.base_url, api_key=tiny_sd_server.api_key, max_retries=0)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rgba_mask() -> bytes:
    """OpenAI's convention: the transparent square is what to edit."""
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (16, 16, 48, 48))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def test_models_list_names_the_served_model(client):
    assert [m.id for m in client.models.list().data] == ["tiny-sd"]


def test_images_generate_b64_with_seed_extension(client):
    result = client.images.generate(
        model="tiny-sd", prompt="a red fox", n=2, size="64x64", response_format="b64_json", extra_body={"seed": 9}
    )
    assert isinstance(result.created, int) and len(result.data) == 2
    records = [read_png_record(base64.b64decode(item.b64_json)) for item in result.data]
    assert [r["seed"] for r in records] == [9, 10]
    assert [item.model_extra["seed"] for item in result.data] == [9, 10]
    assert decoded(base64.b64decode(result.data[0].b64_json)).size == (64, 64)


def test_images_generate_url_points_at_a_served_file(client):
    extensions = {"seed": 4, "steps": 2, "scheduler": "euler_a"}
    result = client.images.generate(prompt="a red fox", response_format="url", extra_body=extensions)
    download = requests.get(result.data[0].url, timeout=30)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    record = read_png_record(download.content)
    assert (record["seed"], record["params"]["steps"], record["scheduler"]) == (4, 2, "euler_a")


def test_images_edit_with_openai_style_mask(client, tiny_sd_server):
    source = base64.b64decode(client.images.generate(prompt="a red fox", extra_body={"seed": 1}).data[0].b64_json)
    result = client.images.edit(
        model="tiny-sd",
        image=("source.png", source, "image/png"),
        mask=("mask.png", rgba_mask(), "image/png"),
        prompt="a blue bird",
        size="64x64",
        extra_body={"seed": 2, "strength": 0.5},
    )
    record = read_png_record(base64.b64decode(result.data[0].b64_json))
    assert record["task"] == "image_to_image" and record["pipeline"] == "StableDiffusionInpaintPipeline"
    assert (record["seed"], record["params"]["strength"]) == (2, 0.5)


def test_images_edit_accepts_an_image_list(client):
    source = base64.b64decode(client.images.generate(prompt="a red fox", extra_body={"seed": 1}).data[0].b64_json)
    result = client.images.edit(image=[("source.png", source, "image/png")], prompt="a blue bird")
    assert read_png_record(base64.b64decode(result.data[0].b64_json))["pipeline"] == "StableDiffusionImg2ImgPipeline"


def test_openai_client_errors_are_typed(client, tiny_sd_server):
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(prompt="a red fox", size="60x60")
    assert info.value.body["param"] == "width" and "multiple of 8" in info.value.body["message"]
    with pytest.raises(openai.NotFoundError) as info:
        client.images.generate(model="dall-e-3", prompt="a red fox")
    assert info.value.body["code"] == "model_not_found" and "tiny-sd" in info.value.body["message"]
    wrong = openai.OpenAI(base_url=tiny_sd_server.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.images.generate(prompt="a red fox")
