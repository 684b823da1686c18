"""Bad input is refused before any work starts, with a message naming the field and the fix."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from abstractvision import (
    CapabilityNotSupportedError,
    GeneratedAsset,
    InvalidParameterError,
    ModelNotFoundError,
    VisionBackend,
    VisionBackendCapabilities,
    VisionManager,
    default_registry,
)
from abstractvision.tasks import IMAGE_TO_IMAGE, TEXT_TO_IMAGE
from abstractvision.types import ImageGenerationRequest
from abstractvision.validation import check_request, resolve_request


def png(width: int = 64, height: int = 64, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


class RecordingBackend(VisionBackend):
    """Counts dispatches: validation tests only need to know that nothing reached a backend."""

    name = "recording"

    def __init__(self, model: str = "tiny-sd") -> None:
        self.calls = 0
        self._model = model
        self.model_spec = default_registry().find(model)

    @property
    def model_name(self) -> str:
        return self._model

    def get_capabilities(self) -> VisionBackendCapabilities:
        return VisionBackendCapabilities(supported_tasks=(TEXT_TO_IMAGE, IMAGE_TO_IMAGE))

    def generate_image(self, request, *, progress=None) -> GeneratedAsset:
        self.calls += 1
        return GeneratedAsset("image", b"", "image/png", {"request": request})

    def edit_image(self, request, *, progress=None) -> GeneratedAsset:
        self.calls += 1
        return GeneratedAsset("image", b"", "image/png", {"request": request})


BAD_GENERATE = [
    ({"width": 65}, "width", "multiple of 8, got 65; use 64 or 72"),
    ({"height": 100}, "height", "use 96 or 104"),
    ({"width": 0}, "width", "positive multiple of 8"),
    ({"width": -64}, "width", "positive multiple of 8"),
    ({"width": 64.0}, "width", "got 64.0"),
    ({"height": "512"}, "height", "got '512'"),
    ({"steps": 0}, "steps", "integer >= 1, got 0"),
    ({"steps": 2.5}, "steps", "integer >= 1"),
    ({"guidance_scale": -1}, "guidance_scale", "number >= 0, got -1"),
    ({"guidance_scale": "high"}, "guidance_scale", "number >= 0"),
    ({"seed": -1}, "seed", "[0, 2**63-1], got -1"),
    ({"seed": 2**63}, "seed", "[0, 2**63-1]"),
    ({"seed": True}, "seed", "got True"),
    ({"negative_prompt": 3}, "negative_prompt", "must be a string"),
]


@pytest.mark.parametrize(("params", "field", "fragment"), BAD_GENERATE)
def test_bad_generation_parameters_are_refused_before_dispatch(params, field, fragment):
    backend = RecordingBackend()
    with pytest.raises(InvalidParameterError) as info:
        VisionManager(backend).generate_image("a red fox", **params)
    assert info.value.field == field
    assert f"`{field}`" in str(info.value)
    assert fragment in str(info.value)
    assert backend.calls == 0


@pytest.mark.parametrize("prompt", ["", "   ", None, 42])
def test_prompt_must_be_a_non_empty_string(prompt):
    backend = RecordingBackend()
    with pytest.raises(InvalidParameterError, match="`prompt`: must be a non-empty string"):
        VisionManager(backend).generate_image(prompt)
    assert backend.calls == 0


BAD_EDIT = [
    ({"strength": 0}, "strength", "in (0, 1], got 0"),
    ({"strength": 1.5}, "strength", "in (0, 1], got 1.5"),
    ({"image": b"not an image"}, "image", "does not decode as an image"),
    ({"image": b""}, "image", "must be the bytes of an image file"),
    ({"image": "fox.png"}, "image", "got str"),
    ({"mask": b"\x89PNG\r\n\x1a\n broken"}, "mask", "does not decode"),
    ({"mask": png(32, 32)}, "mask", "size 32x32 differs from the image's 64x64"),
]


@pytest.mark.parametrize(("params", "field", "fragment"), BAD_EDIT)
def test_bad_edit_parameters_are_refused_before_dispatch(params, field, fragment):
    backend = RecordingBackend()
    call = {"image": png(), **params}
    with pytest.raises(InvalidParameterError) as info:
        VisionManager(backend).edit_image("a red fox", **call)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert backend.calls == 0


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(InvalidParameterError, match="unknown task 'text_to_audio'; valid tasks are"):
        check_request("text_to_audio", ImageGenerationRequest(prompt="x"))


def test_unknown_model_lists_known_models():
    with pytest.raises(ModelNotFoundError, match=r"unknown model 'nope'; known models are \[.*'tiny-sd'"):
        default_registry().get("nope")


def test_unsupported_task_names_backend_task_and_alternatives():
    backend = RecordingBackend()
    with pytest.raises(CapabilityNotSupportedError) as info:
        VisionManager(backend).generate_video("a red fox")
    message = str(info.value)
    assert "backend 'recording'" in message
    assert "'text_to_video'" in message
    assert "text_to_image" in message  # what it does support
    assert "text_to_video_path" in message  # what would support it


def test_model_that_cannot_do_a_task_is_refused():
    spec = default_registry().get("tiny-sd")
    assert not spec.supports("text_to_video")

    class AllTasks(RecordingBackend):
        def get_capabilities(self) -> VisionBackendCapabilities:
            return VisionBackendCapabilities(supported_tasks=("text_to_video",))

    with pytest.raises(CapabilityNotSupportedError, match="model 'tiny-sd' does not support task 'text_to_video'"):
        VisionManager(AllTasks()).generate_video("a red fox")


def test_model_size_multiple_is_used():
    spec = default_registry().get("tiny-sd")
    coarse = type(spec)(**{**spec.__dict__, "size_multiple": 64})
    with pytest.raises(InvalidParameterError, match="multiple of 64, got 72"):
        check_request(TEXT_TO_IMAGE, ImageGenerationRequest(prompt="x", width=72), coarse)


def test_model_defaults_fill_unset_parameters_only():
    spec = default_registry().get("tiny-sd")
    request = resolve_request(ImageGenerationRequest(prompt="x", steps=2), spec)
    assert (request.width, request.height, request.steps, request.guidance_scale) == (64, 64, 2, 7.5)


def test_valid_request_reaches_the_backend_resolved():
    backend = RecordingBackend()
    asset = VisionManager(backend).generate_image("a red fox", seed=3)
    sent = asset.metadata["request"]
    assert backend.calls == 1
    assert (sent.width, sent.height, sent.steps, sent.seed) == (64, 64, 4, 3)
