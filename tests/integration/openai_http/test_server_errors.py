"""``abstractvision serve`` refuses bad requests with OpenAI-shaped errors naming the field (tiny-sd subprocess)."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

pytestmark = pytest.mark.slow


def post(server, path: str, key: str | None = "default", **kwargs: object) -> requests.Response:
    key = server.api_key if key == "default" else key
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(f"{server.base_url}{path}", headers=headers, timeout=60, **kwargs)


def error_of(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"n": 1}, "prompt", "non-empty string"),
        ({"prompt": "a fox", "quality": "hd"}, "quality", "unknown parameter"),
        ({"prompt": "a fox", "size": "60x60"}, "width", "multiple of 8"),
        ({"prompt": "a fox", "size": "big"}, "size", "512x512"),
        ({"prompt": "a fox", "n": 11}, "n", "between 1 and 10"),
        ({"prompt": "a fox", "seed": "x"}, "seed", "an integer"),
        ({"prompt": "a fox", "steps": 2, "num_inference_steps": 3}, "num_inference_steps", "only one"),
        ({"prompt": "a fox", "response_format": "png"}, "response_format", "b64_json"),
    ],
)
def test_bad_generation_fields_are_named(tiny_sd_server, body, param, words):
    error = error_of(post(tiny_sd_server, "/images/generations", json=body), 400)
    assert error["param"] == param and words in error["message"]
    assert error["type"] == "invalid_request_error"


def test_invalid_json_and_missing_image(tiny_sd_server):
    error = error_of(post(tiny_sd_server, "/images/generations", data=b"{nope"), 400)
    assert "not valid JSON" in error["message"]
    error = error_of(post(tiny_sd_server, "/images/edits", data={"prompt": "a fox"}), 400)
    assert "multipart/form-data" in error["message"]
    error = error_of(post(tiny_sd_server, "/images/edits", files={"prompt": (None, "a fox")}), 400)
    assert error["param"] == "image" and "required" in error["message"]


def test_edit_refuses_a_broken_image_naming_it(tiny_sd_server):
    files = {"image": ("a.png", b"not a png", "image/png")}
    error = error_of(post(tiny_sd_server, "/images/edits", data={"prompt": "a fox"}, files=files), 400)
    assert error["param"] == "image" and "does not decode" in error["message"]


def test_auth_401_and_health_without_key(tiny_sd_server):
    for key in (None, "sk-wrong"):
        error = error_of(post(tiny_sd_server, "/images/generations", key=key, json={"prompt": "a fox"}), 401)
        assert error["code"] == "invalid_api_key" and tiny_sd_server.api_key not in error["message"]
    health = requests.get(tiny_sd_server.base_url.removesuffix("/v1") + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["model"] == "tiny-sd"


def test_oversized_upload_is_413(tiny_sd_server):
    big = io.BytesIO()
    Image.effect_noise((1800, 1800), 64).save(big, format="PNG")  # ~3 MB of noise; the limit here is 2 MB
    files = {"image": ("big.png", big.getvalue(), "image/png")}
    error = error_of(post(tiny_sd_server, "/images/edits", data={"prompt": "a fox"}, files=files), 413)
    assert "--max-upload-mb" in error["message"]


def test_unknown_model_route_and_method(tiny_sd_server):
    error = error_of(post(tiny_sd_server, "/images/generations", json={"prompt": "a fox", "model": "x"}), 404)
    assert error["code"] == "model_not_found" and "tiny-sd" in error["message"]
    assert error_of(post(tiny_sd_server, "/nowhere", json={}), 404)["code"] == "not_found"
    assert error_of(post(tiny_sd_server, "/videos", json={"prompt": "a fox"}), 404)["code"] == "not_found"  # no video
