"""Request, asset and capability types shared by every backend.

Requests are frozen dataclasses: a request is a value, safe to hash, log (minus image bytes) and
replay. ``None`` means "use the model's default" and is resolved before dispatch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(step, total_steps)`` after each denoising step."""


@dataclass(frozen=True)
class ImageGenerationRequest:
    """Text to image."""

    prompt: str
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageEditRequest:
    """Image to image; with ``mask`` (white = repaint) it is inpainting."""

    prompt: str
    image: bytes
    mask: bytes | None = None
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    strength: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MultiAngleRequest:
    """Several views of one subject."""

    prompt: str
    reference_image: bytes | None = None
    #: each a view name or ``{"azimuth": deg, "elevation": deg}`` (``views.parse_views``)
    angles: Sequence[str | Mapping[str, float]] = ("front", "three_quarter", "side", "back")
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    strength: float | None = None  # with a reference image: how far each view departs from it
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoGenerationRequest:
    """Text to video."""

    prompt: str
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    num_frames: int | None = None
    fps: int | None = None
    output_format: str | None = None  # "mp4" (default), "webm", "gif", "webp": media.video.FORMATS
    frame_pngs: bool = False  # also return every frame as a lossless PNG
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageToVideoRequest:
    """Animate an image, optionally guided by a prompt."""

    image: bytes
    prompt: str | None = None
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    num_frames: int | None = None
    fps: int | None = None
    output_format: str | None = None  # "mp4" (default), "webm", "gif", "webp": media.video.FORMATS
    frame_pngs: bool = False  # also return every frame as a lossless PNG
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


VisionRequest = (
    ImageGenerationRequest | ImageEditRequest | MultiAngleRequest | VideoGenerationRequest | ImageToVideoRequest
)


@dataclass(frozen=True)
class GeneratedAsset:
    """One generated file in memory.

    ``metadata`` holds how it was made: backend, model, every resolved parameter, the seed actually
    used, library versions, device, and ``timings`` (seconds). Everything but ``timings`` is
    deterministic, so it can be embedded in the file without breaking byte-identical reruns.
    """

    media_type: str  # "image" | "video"
    data: bytes
    mime_type: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VisionBackendCapabilities:
    """What a configured backend will do (the registry says what a model can do)."""

    supported_tasks: tuple[str, ...] = ()

    def supports(self, task: str) -> bool:
        return task in self.supported_tasks
