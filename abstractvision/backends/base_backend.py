"""The backend interface every execution engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import CapabilityNotSupportedError
from ..registry import ModelSpec
from ..tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, MULTI_VIEW_IMAGE, TEXT_TO_IMAGE, TEXT_TO_VIDEO
from ..types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    ProgressCallback,
    VideoGenerationRequest,
    VisionBackendCapabilities,
    VisionRequest,
)


class VisionBackend(ABC):
    """An adapter from AbstractVision requests to one execution engine.

    Subclasses implement the tasks they support and say so in ``get_capabilities()``; every other
    task raises ``CapabilityNotSupportedError`` through ``unsupported()``. ``progress`` callbacks
    are best effort: engines that cannot report steps never call them. The video methods return a list
    (the video first, then one PNG per frame) when the request asks for ``frame_pngs``.
    """

    #: Short name used in metadata, configs and errors ("diffusers", "sdcpp", "openai").
    name: str = "backend"
    #: The model this backend runs, with its defaults and size rules (``None``: the backend does not know).
    model_spec: ModelSpec | None = None
    #: task -> what to use instead, where this backend knows better than the general advice of ``unsupported``.
    unsupported_advice: Mapping[str, str] = {}

    @property
    def model_name(self) -> str | None:
        """The model this backend runs, for error messages and metadata."""
        return None

    @abstractmethod
    def get_capabilities(self) -> VisionBackendCapabilities: ...

    def preload(self) -> None:
        """Load weights (or connect) now rather than on the first request."""

    def check_request(self, request: VisionRequest) -> None:
        """Check at plan time what only this backend knows about ``request`` (by default its ``extra``), without
        heavy imports: the planner and ``VisionManager`` call it before any work."""
        self.check_extra(request.extra)

    def check_extra(self, extra: Mapping[str, Any]) -> None:
        """Check a request's ``extra`` (keys, scheduler and sampler names) at plan time, without heavy imports."""

    def preflight(self, *, network: bool = True) -> list[str]:
        """Check once, before any job and without loading weights, what every job needs: packages installed,
        model files in place, a server reachable (only with ``network``). Raise the error a job would hit;
        return notes worth telling the user (a check that could not be made)."""
        return []

    def unload(self) -> None:
        """Release weights and memory; the next request loads again."""

    def generate_image(
        self, request: ImageGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        raise self.unsupported(TEXT_TO_IMAGE)

    def can_batch(self, task: str, seeds: Sequence[int | None]) -> bool:
        """Whether requests of ``task`` alike but for their ``seeds`` can run as one engine call
        (``generate_batch``) whose images equal, within ±1 per pixel, the single calls'."""
        return False

    def generate_batch(
        self, requests: Sequence[ImageGenerationRequest], *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """``requests`` (accepted by ``can_batch``) as one engine call: one asset per request, in order."""
        return [self.generate_image(request, progress=progress) for request in requests]

    def edit_image(self, request: ImageEditRequest, *, progress: ProgressCallback | None = None) -> GeneratedAsset:
        raise self.unsupported(IMAGE_TO_IMAGE)

    def generate_angles(
        self, request: MultiAngleRequest, *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        raise self.unsupported(MULTI_VIEW_IMAGE)

    def generate_video(
        self, request: VideoGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset | list[GeneratedAsset]:
        raise self.unsupported(TEXT_TO_VIDEO)

    def image_to_video(
        self, request: ImageToVideoRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset | list[GeneratedAsset]:
        raise self.unsupported(IMAGE_TO_VIDEO)

    def unsupported(self, task: str) -> CapabilityNotSupportedError:
        """The error for a task this backend cannot do, naming what it can do instead."""
        supported = list(self.get_capabilities().supported_tasks)
        return CapabilityNotSupportedError(
            f"backend {self.name!r} (model {self.model_name!r}) does not support task {task!r}; "
            f"it supports {supported}. {self.unsupported_advice.get(task) or _WHO_SUPPORTS.get(task, '')}".rstrip(),
            backend=self.name,
            model=self.model_name,
        )

    def __enter__(self) -> VisionBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unload()


_WHO_SUPPORTS = {
    TEXT_TO_VIDEO: "Use the openai backend with `text_to_video_path` set, or a video model.",
    IMAGE_TO_VIDEO: "Use the openai backend with `image_to_video_path` set, or a video model.",
    MULTI_VIEW_IMAGE: "Use the diffusers backend with an image model (e.g. model=tiny-sd).",
}


def image_params(
    request: ImageGenerationRequest | ImageEditRequest, width: int | None, height: int | None
) -> dict[str, Any]:
    """The parameters every image backend records for a request (``None``: left to the engine)."""
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "width": width,
        "height": height,
        "steps": request.steps,
        "guidance_scale": request.guidance_scale,
    }
