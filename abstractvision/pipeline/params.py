"""The generation parameters a run config holds at its root, their types, and which task uses which.

Normalising values here (``5`` -> ``5.0`` for a guidance scale) is what makes ``guidance_scale=5`` and
``guidance_scale=5.0`` the same job, with the same id.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidParameterError
from ..types import (
    IMAGE_TO_IMAGE,
    IMAGE_TO_VIDEO,
    MULTI_VIEW_IMAGE,
    TEXT_TO_IMAGE,
    TEXT_TO_VIDEO,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    VideoGenerationRequest,
    VisionRequest,
)

INT_PARAMS = ("width", "height", "steps", "num_frames", "fps", "seed")
FLOAT_PARAMS = ("guidance_scale", "strength")
STR_PARAMS = ("prompt", "negative_prompt", "scheduler")
#: Parameters naming an input file; jobs carry the file's content hash, not its path.
FILE_PARAMS = ("image", "mask")
OTHER_PARAMS = ("angles", "extra")
PARAMS: tuple[str, ...] = (*STR_PARAMS, *INT_PARAMS, *FLOAT_PARAMS, *FILE_PARAMS, *OTHER_PARAMS)

REQUEST_TYPES: dict[str, type] = {
    TEXT_TO_IMAGE: ImageGenerationRequest,
    IMAGE_TO_IMAGE: ImageEditRequest,
    MULTI_VIEW_IMAGE: MultiAngleRequest,
    TEXT_TO_VIDEO: VideoGenerationRequest,
    IMAGE_TO_VIDEO: ImageToVideoRequest,
}
# Config parameter -> request field, where the names differ.
_FIELD_ALIASES = {MULTI_VIEW_IMAGE: {"image": "reference_image"}}
# Parameters passed through ``request.extra`` because no request type has a field for them.
_EXTRA_PARAMS = ("scheduler",)


def task_params(task: str) -> tuple[str, ...]:
    """The config parameters task ``task`` uses (everything else must be left unset)."""
    fields = {f.name for f in dataclasses.fields(REQUEST_TYPES[task])}
    aliases = _FIELD_ALIASES.get(task, {})
    return tuple(p for p in PARAMS if p in _EXTRA_PARAMS or aliases.get(p, p) in fields)


def normalize(name: str, value: Any) -> Any:
    """``value`` in the canonical type of parameter ``name``; raises naming the key if it cannot be."""
    if value is None:
        return None
    if name in INT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise InvalidParameterError(name, f"must be an integer, got {value!r}")
        return int(value)
    if name in FLOAT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParameterError(name, f"must be a number, got {value!r}")
        return float(value)
    if name in STR_PARAMS or name in FILE_PARAMS:
        if not isinstance(value, str):
            raise InvalidParameterError(name, f"must be a string, got {value!r} (quote it on the command line)")
        return value
    if name == "angles":
        if not isinstance(value, (list, tuple)) or not all(isinstance(a, str) for a in value):
            raise InvalidParameterError(name, f"must be a list of view names, got {value!r}")
        return list(value)
    if name == "extra":
        if not isinstance(value, Mapping):
            raise InvalidParameterError(name, f"must be a mapping of backend-specific options, got {value!r}")
        return dict(value)
    raise InvalidParameterError(name, f"unknown parameter; valid parameters are {list(PARAMS)}")


def check_used_by(task: str, params: Mapping[str, Any]) -> None:
    """Refuse a parameter set for a task that would ignore it (no silent drops)."""
    used = set(task_params(task))
    for name, value in params.items():
        if value is not None and name not in used:
            raise InvalidParameterError(
                name, f"is not used by task {task!r} (it uses {sorted(used)}); unset it or pick another task"
            )


def build_request(task: str, params: Mapping[str, Any], seed: int, files: Mapping[str, bytes]) -> VisionRequest:
    """The request for one job: ``params`` as resolved in the job, file parameters replaced by ``files``."""
    aliases = _FIELD_ALIASES.get(task, {})
    values: dict[str, Any] = {"seed": seed}
    extra = dict(params.get("extra") or {})
    for name, value in params.items():
        if name == "extra":
            continue
        if name in _EXTRA_PARAMS:
            extra[name] = value
        elif name in FILE_PARAMS:
            values[aliases.get(name, name)] = files[name]
        else:
            values[aliases.get(name, name)] = tuple(value) if name == "angles" else value
    request_type = REQUEST_TYPES[task]
    for f in dataclasses.fields(request_type):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in values:
            name = {v: k for k, v in aliases.items()}.get(f.name, f.name)
            raise InvalidParameterError(name, f"is required by task {task!r}; set {name}=...")
    return request_type(**values, extra=extra)
