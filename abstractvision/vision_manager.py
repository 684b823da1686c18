"""VisionManager: the thin front door. It validates, checks capability, and delegates."""

from __future__ import annotations

from typing import Any

from .backends.base_backend import VisionBackend
from .errors import CapabilityNotSupportedError
from .registry import ModelSpec, default_registry
from .types import (
    IMAGE_TO_IMAGE,
    IMAGE_TO_VIDEO,
    MULTI_VIEW_IMAGE,
    TEXT_TO_IMAGE,
    TEXT_TO_VIDEO,
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    ProgressCallback,
    VideoGenerationRequest,
    VisionRequest,
)
from .validation import check_request, resolve_request


class VisionManager:
    """Generate images and videos through one backend.

    Args:
        backend (`VisionBackend`): the engine that does the work.
        model_spec (`ModelSpec`, *optional*): what the model can do and its defaults; looked up in the
            registry from ``backend.model_name`` when not given (``None`` for unlisted models).

    Example::

        backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"))
        asset = VisionManager(backend).generate_image("a red fox", seed=0)
        open("fox.png", "wb").write(asset.data)
    """

    def __init__(self, backend: VisionBackend, model_spec: ModelSpec | None = None) -> None:
        self.backend = backend
        self.model_spec = model_spec or (default_registry().find(backend.model_name) if backend.model_name else None)

    def generate_image(self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any) -> GeneratedAsset:
        request = self.prepare(TEXT_TO_IMAGE, ImageGenerationRequest(prompt=prompt, **params))
        return self.backend.generate_image(request, progress=progress)

    def edit_image(
        self, prompt: str, image: bytes, *, progress: ProgressCallback | None = None, **params: Any
    ) -> GeneratedAsset:
        request = self.prepare(IMAGE_TO_IMAGE, ImageEditRequest(prompt=prompt, image=image, **params))
        return self.backend.edit_image(request, progress=progress)

    def generate_angles(
        self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any
    ) -> list[GeneratedAsset]:
        request = self.prepare(MULTI_VIEW_IMAGE, MultiAngleRequest(prompt=prompt, **params))
        return self.backend.generate_angles(request, progress=progress)

    def generate_video(self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any) -> GeneratedAsset:
        request = self.prepare(TEXT_TO_VIDEO, VideoGenerationRequest(prompt=prompt, **params))
        return self.backend.generate_video(request, progress=progress)

    def image_to_video(
        self, image: bytes, *, progress: ProgressCallback | None = None, **params: Any
    ) -> GeneratedAsset:
        request = self.prepare(IMAGE_TO_VIDEO, ImageToVideoRequest(image=image, **params))
        return self.backend.image_to_video(request, progress=progress)

    def prepare(self, task: str, request: VisionRequest) -> VisionRequest:
        """Check capability, fill model defaults and validate, before any work starts."""
        if not self.backend.get_capabilities().supports(task):
            raise self.backend.unsupported(task)
        spec = self.model_spec
        if spec is not None and not spec.supports(task):
            raise CapabilityNotSupportedError(
                f"model {spec.name!r} does not support task {task!r}; it supports {list(spec.tasks)}",
                backend=self.backend.name,
                model=spec.name,
            )
        request = resolve_request(request, spec)
        check_request(task, request, spec)
        return request
