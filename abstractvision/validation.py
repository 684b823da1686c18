"""Pure checks run before any weights load or HTTP call.

``resolve_request`` fills unset parameters from the model's defaults; ``check_request`` raises
``InvalidParameterError`` naming the field, the rule and the value received. Neither does I/O
beyond decoding the image bytes it is handed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

from .errors import InvalidParameterError
from .media.images import MAX_SIDE, decoded_size
from .media.video import check_output_format
from .registry import ModelSpec
from .tasks import IMAGE_TO_VIDEO, TASKS
from .types import ImageEditRequest, ImageToVideoRequest, MultiAngleRequest, VideoGenerationRequest, VisionRequest
from .video_families import check_video_request, video_family
from .views import check_view_prompt, parse_views

MAX_SEED = 2**63 - 1


def resolve_params(params: Mapping[str, Any], spec: ModelSpec | None) -> dict[str, Any]:
    """``params`` with every unset (``None``) one taken from the model's defaults: the one place they are filled.

    The planner applies it to each job's config parameters (so a job carries its complete request), and
    ``resolve_request`` to a request made in Python; backends keep no defaults of their own.
    """
    defaults = spec.defaults if spec is not None else {}
    return {k: defaults.get(k) if v is None else v for k, v in params.items()}


def resolve_request(request: VisionRequest, spec: ModelSpec | None) -> VisionRequest:
    """Return ``request`` with every unset (``None``) parameter taken from the model's defaults."""
    fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(request) if f.name != "extra"}
    updates = {k: v for k, v in resolve_params(fields, spec).items() if v is not None and fields[k] is None}
    return dataclasses.replace(request, **updates) if updates else request


def check_task(task: str) -> None:
    if task not in TASKS:
        raise InvalidParameterError("task", f"unknown task {task!r}; valid tasks are {list(TASKS)}")


def check_request(task: str, request: VisionRequest, spec: ModelSpec | None = None) -> None:
    """Raise ``InvalidParameterError`` for the first invalid field of ``request``."""
    check_task(task)
    multiple = spec.size_multiple if spec else 8
    family = video_family(spec.family) if spec else None
    is_video = isinstance(request, (VideoGenerationRequest, ImageToVideoRequest))
    if family is not None and is_video:
        multiple = math.lcm(multiple, family.size_multiple)
    prompt_required = task != IMAGE_TO_VIDEO
    _check_prompt(request.prompt, required=prompt_required)
    if request.negative_prompt is not None and not isinstance(request.negative_prompt, str):
        raise InvalidParameterError("negative_prompt", f"must be a string, got {request.negative_prompt!r}")
    for name in ("width", "height"):
        _check_size(name, getattr(request, name), multiple)
    if spec is not None and spec.sizes:
        _check_fixed_size(spec, request.width, request.height)
    _check_int_at_least("steps", request.steps, 1)
    _check_seed(request.seed)
    _check_guidance(request.guidance_scale)
    if isinstance(request, ImageEditRequest):
        _check_strength(request.strength)
        image_size = decoded_size("image", request.image)
        if request.mask is not None:
            mask_size = decoded_size("mask", request.mask)
            if mask_size != image_size:
                raise InvalidParameterError(
                    "mask",
                    f"size {mask_size[0]}x{mask_size[1]} differs from the image's {image_size[0]}x{image_size[1]}; "
                    "resize the mask to the image",
                )
    if isinstance(request, ImageToVideoRequest):
        decoded_size("image", request.image)
    if isinstance(request, MultiAngleRequest):
        parse_views(request.angles)
        if spec is not None and spec.view_prompt:
            check_view_prompt(spec.view_prompt)
        _check_strength(request.strength)
        if request.reference_image is not None:
            decoded_size("image", request.reference_image)
        elif spec is not None and spec.edit_pipeline:
            raise InvalidParameterError(
                "image",
                f"model {spec.name!r} makes views by editing a reference image ({spec.edit_pipeline}); set image=...",
            )
    for name in ("num_frames", "fps"):
        _check_int_at_least(name, getattr(request, name, None), 1)
    if is_video:
        check_output_format(request.output_format)
        if family is not None:
            check_video_request(family, spec.name, request.num_frames, request.prompt)


def _check_prompt(prompt: Any, *, required: bool) -> None:
    if prompt is None and not required:
        return
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidParameterError("prompt", f"must be a non-empty string, got {prompt!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_size(name: str, value: Any, multiple: int) -> None:
    if value is None:
        return
    if not _is_int(value) or value <= 0:
        raise InvalidParameterError(name, f"must be a positive multiple of {multiple}, got {value!r}")
    if value > MAX_SIDE:
        raise InvalidParameterError(name, f"must be at most {MAX_SIDE}, got {value}")
    if value % multiple:
        lower = max(multiple, value - value % multiple)
        raise InvalidParameterError(
            name,
            f"must be a positive multiple of {multiple}, got {value}; use {lower} or {lower + multiple}",
        )


def _check_fixed_size(spec: ModelSpec, width: int | None, height: int | None) -> None:
    """The model makes only the sizes of ``spec.sizes``: the field named is the one that is off."""
    if width is None or height is None or f"{width}x{height}" in spec.sizes:
        return
    sizes = [tuple(int(side) for side in size.split("x")) for size in spec.sizes]
    field = "height" if any(w == width for w, _ in sizes) else "width"
    first_width, first_height = sizes[0]
    raise InvalidParameterError(
        field,
        f"model {spec.name!r} makes only {' or '.join(spec.sizes)}, got {width}x{height}; set "
        f"width={first_width} height={first_height}, or leave both unset for the model's defaults",
    )


def _check_int_at_least(name: str, value: Any, minimum: int) -> None:
    if value is not None and (not _is_int(value) or value < minimum):
        raise InvalidParameterError(name, f"must be an integer >= {minimum}, got {value!r}")


def _check_seed(seed: Any) -> None:
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= MAX_SEED):
        raise InvalidParameterError("seed", f"must be an integer in [0, 2**63-1], got {seed!r}")


def _check_guidance(value: Any) -> None:
    if value is not None and (not isinstance(value, Real) or isinstance(value, bool) or value < 0):
        raise InvalidParameterError("guidance_scale", f"must be a number >= 0, got {value!r}")


def _check_strength(value: Any) -> None:
    if value is not None and (not isinstance(value, Real) or isinstance(value, bool) or not 0 < value <= 1):
        raise InvalidParameterError("strength", f"must be a number in (0, 1], got {value!r}")
