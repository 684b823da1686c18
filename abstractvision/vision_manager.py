"""VisionManager: the thin front door. It validates, checks capability, and delegates through the task table."""

from __future__ import annotations

from typing import Any

from .backends.base_backend import VisionBackend
from .errors import CapabilityNotSupportedError
from .registry import ModelSpec
from .tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, MULTI_VIEW_IMAGE, TEXT_TO_IMAGE, TEXT_TO_VIDEO, get_task
from .types import GeneratedAsset, ProgressCallback, VisionRequest
from .validation import check_request, resolve_request


class VisionManager:
    """Generate images and videos through one backend.

    Args:
        backend (`VisionBackend`): the engine that does the work.
        model_spec (`ModelSpec`, *optional*): what the model can do, its defaults and size rules; defaults
            to the backend's own (``backend.model_spec``).

    Example::

        backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"))
        asset = VisionManager(backend).generate_image("a red fox", seed=0)
        open("fox.png", "wb").write(asset.data)
    """

    def __init__(self, backend: VisionBackend, model_spec: ModelSpec | None = None) -> None:
        self.backend = backend
        self.model_spec = model_spec or backend.model_spec

    def generate_image(self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any) -> GeneratedAsset:
        return self._one(TEXT_TO_IMAGE, progress, prompt=prompt, **params)

    def edit_image(
        self, prompt: str, image: bytes, *, progress: ProgressCallback | None = None, **params: Any
    ) -> GeneratedAsset:
        """Image to image; with ``mask=`` (white = repaint) it is inpainting."""
        return self._one(IMAGE_TO_IMAGE, progress, prompt=prompt, image=image, **params)

    def generate_angles(
        self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any
    ) -> list[GeneratedAsset]:
        """Several views of one subject (``angles=``, optional ``reference_image=``): one asset per view."""
        return self._many(MULTI_VIEW_IMAGE, progress, prompt=prompt, **params)

    def generate_video(self, prompt: str, *, progress: ProgressCallback | None = None, **params: Any) -> GeneratedAsset:
        return self._one(TEXT_TO_VIDEO, progress, prompt=prompt, **params)

    def image_to_video(
        self, image: bytes, *, progress: ProgressCallback | None = None, **params: Any
    ) -> GeneratedAsset:
        return self._one(IMAGE_TO_VIDEO, progress, image=image, **params)

    def run(self, task: str, request: VisionRequest, progress: ProgressCallback | None = None) -> list[GeneratedAsset]:
        """Any task of the table with a ready request: prepared, then performed; always a list of assets."""
        return get_task(task).run(self.backend, self.prepare(task, request), progress)

    def prepare(self, task: str, request: VisionRequest) -> VisionRequest:
        """Check capability, fill model defaults and validate, before any work starts."""
        get_task(task)
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
        self.backend.check_request(request)
        return request

    def _many(self, task: str, progress: ProgressCallback | None, **fields: Any) -> list[GeneratedAsset]:
        return self.run(task, get_task(task).request_type(**fields), progress)

    def _one(self, task: str, progress: ProgressCallback | None, **fields: Any) -> GeneratedAsset:
        return self._many(task, progress, **fields)[0]
