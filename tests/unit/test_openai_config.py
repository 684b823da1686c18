"""Config errors of the ``openai`` backend name the field and the fix; the API key stays secret."""

from __future__ import annotations

import re

import pytest

from abstractvision import InvalidParameterError, OpenAICompatibleBackendConfig, VisionManager
from abstractvision.backends.factory import create_backend
from abstractvision.pipeline.config import redact

URL = "http://127.0.0.1:1/v1"


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({}, "backend.base_url", "is required"),
        ({"base_url": "???"}, "backend.base_url", "is required"),
        ({"base_url": "127.0.0.1:8000/v1"}, "backend.base_url", "http://"),
        ({"base_url": URL, "profile": "dalle"}, "backend.profile", "sdcpp-server"),
        ({"base_url": URL, "response_format": "png"}, "backend.response_format", "b64_json"),
        ({"base_url": URL, "profile": "sdcpp-server", "response_format": "url"}, "backend.response_format", "always"),
        ({"base_url": URL, "size": "512"}, "backend.size", "512x512"),
        ({"base_url": URL, "n": 0}, "backend.n", "> 0"),
        ({"base_url": URL, "max_retries": -1}, "backend.max_retries", ">= 0"),
        ({"base_url": URL, "timeout_s": 0}, "backend.timeout_s", "> 0"),
        ({"base_url": URL, "api_key_env": "ABSTRACTVISION_TEST_UNSET_KEY"}, "backend.api_key_env", "not set"),
    ],
)
def test_bad_options_name_the_field(options, field, words):
    with pytest.raises(InvalidParameterError) as info:
        create_backend("openai", None, options)
    assert info.value.field == field and words in str(info.value)


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(InvalidParameterError, match="valid options are"):
        create_backend("openai", None, {"base_url": URL, "seed_mode": "x"})


def test_api_key_is_not_in_the_config_repr_and_is_redacted_from_records():
    config = OpenAICompatibleBackendConfig(base_url=URL, api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(config)
    assert redact({"api_key": "sk-very-secret", "base_url": URL}) == {"api_key": "<redacted>", "base_url": URL}


def test_api_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("ABSTRACTVISION_TEST_KEY", "sk-from-env")
    backend = create_backend("openai", None, {"base_url": URL, "api_key_env": "ABSTRACTVISION_TEST_KEY"})
    assert backend._transport._api_key == "sk-from-env"


def test_video_is_only_a_capability_when_its_path_is_set():
    plain = create_backend("openai", None, {"base_url": URL})
    assert plain.get_capabilities().supported_tasks == ("text_to_image", "image_to_image")
    video = create_backend("openai", None, {"base_url": URL, "text_to_video_path": "/videos"})
    assert "text_to_video" in video.get_capabilities().supported_tasks


def test_half_a_size_is_refused_before_any_request():
    backend = create_backend("openai", None, {"base_url": URL})
    with pytest.raises(InvalidParameterError) as info:
        VisionManager(backend).generate_image("a fox", width=64)
    assert info.value.field == "height" and "WxH" in str(info.value)


@pytest.mark.parametrize(
    ("profile", "params", "message"),
    [
        ("openai", {"output_format": "gif"}, "`output_format`: the openai profile cannot ask the server for"),
        ("localai", {"output_format": "webm"}, "`output_format`: the localai profile cannot ask the server for"),
        ("generic", {"frame_pngs": True}, "`frame_pngs`: the openai backend returns the server's video file alone"),
    ],
)
def test_a_local_encoding_asked_of_the_http_backend_is_refused_not_dropped(
    profile: str, params: dict, message: str
) -> None:
    from abstractvision import OpenAICompatibleVisionBackend

    config = OpenAICompatibleBackendConfig(base_url=URL, profile=profile, text_to_video_path="/videos")
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        VisionManager(OpenAICompatibleVisionBackend(config)).generate_video("a fox", **params)
