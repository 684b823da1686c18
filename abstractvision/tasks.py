"""The one task table: each task's request type, front-door and backend methods, parameters and output.

The planner, the worker, ``VisionManager``, the server and the CLI all read ``TASK_TABLE``; adding a
task is one ``Task`` entry here plus the backend methods that implement it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidParameterError
from .types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    ProgressCallback,
    VideoGenerationRequest,
    VisionRequest,
)

TEXT_TO_IMAGE = "text_to_image"
IMAGE_TO_IMAGE = "image_to_image"
TEXT_TO_VIDEO = "text_to_video"
IMAGE_TO_VIDEO = "image_to_video"
MULTI_VIEW_IMAGE = "multi_view_image"

#: The generation parameters a run config holds at its root, by type.
STR_PARAMS = ("prompt", "negative_prompt", "scheduler", "output_format")
INT_PARAMS = ("width", "height", "steps", "num_frames", "fps", "seed")
FLOAT_PARAMS = ("guidance_scale", "strength")
BOOL_PARAMS = ("frame_pngs",)
#: Config parameters that name an input file; jobs carry the file's content hash, never its path.
FILE_PARAMS = ("image", "mask")
OTHER_PARAMS = ("angles", "extra")
PARAMS: tuple[str, ...] = (*STR_PARAMS, *INT_PARAMS, *FLOAT_PARAMS, *BOOL_PARAMS, *FILE_PARAMS, *OTHER_PARAMS)
#: Config parameters that travel in ``request.extra`` because no request type has a field for them.
EXTRA_PARAMS = ("scheduler",)


@dataclass(frozen=True)
class Task:
    """One task: how a job of it becomes a request, which methods serve it, and what it returns.

    Args:
        name (`str`): the task's name in configs, manifests and errors.
        request_type (`type`): the frozen request dataclass of ``types``.
        manager_method (`str`): the ``VisionManager`` method that takes it.
        backend_method (`str`): the ``VisionBackend`` method that performs it.
        output (`str`): ``"image"``, ``"images"`` (several per job) or ``"video"``.
        route (`str`): the ``abstractvision serve`` route that performs it.
        field_aliases (`Mapping[str, str]`): config parameter -> request field where the names differ.
    """

    name: str
    request_type: type
    manager_method: str
    backend_method: str
    output: str
    route: str
    field_aliases: Mapping[str, str] = field(default_factory=dict)

    def params(self) -> tuple[str, ...]:
        """The config parameters this task uses (every other one must stay unset), ``extra`` included."""
        fields = {f.name for f in dataclasses.fields(self.request_type)}
        return tuple(p for p in PARAMS if p in EXTRA_PARAMS or self.field_aliases.get(p, p) in fields)

    def build_request(self, params: Mapping[str, Any], seed: int | None, files: Mapping[str, bytes]) -> VisionRequest:
        """The request for resolved config ``params``; file parameters come as bytes in ``files``."""
        values: dict[str, Any] = {"seed": seed}
        extra = dict(params.get("extra") or {})
        for name, value in params.items():
            if name == "extra" or value is None:
                continue
            if name in EXTRA_PARAMS:
                extra[name] = value
            elif name in FILE_PARAMS:
                values[self.field_aliases.get(name, name)] = files[name]
            else:
                values[self.field_aliases.get(name, name)] = tuple(value) if name == "angles" else value
        for f in dataclasses.fields(self.request_type):
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required and f.name not in values:
                name = {v: k for k, v in self.field_aliases.items()}.get(f.name, f.name)
                raise InvalidParameterError(name, f"is required by task {self.name!r}; set {name}=...")
        return self.request_type(**values, extra=extra)

    def run(
        self, backend: Any, request: VisionRequest, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """Perform ``request`` on ``backend`` (a ``VisionBackend``); always a list of assets (one, or one per view)."""
        result = getattr(backend, self.backend_method)(request, progress=progress)
        return list(result) if isinstance(result, list) else [result]


TASK_TABLE: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            TEXT_TO_IMAGE,
            ImageGenerationRequest,
            "generate_image",
            "generate_image",
            "image",
            "POST /v1/images/generations",
        ),
        Task(IMAGE_TO_IMAGE, ImageEditRequest, "edit_image", "edit_image", "image", "POST /v1/images/edits"),
        Task(TEXT_TO_VIDEO, VideoGenerationRequest, "generate_video", "generate_video", "video", "POST /v1/videos"),
        Task(
            IMAGE_TO_VIDEO,
            ImageToVideoRequest,
            "image_to_video",
            "image_to_video",
            "video",
            "POST /v1/videos (multipart, input_reference)",
        ),
        Task(
            MULTI_VIEW_IMAGE,
            MultiAngleRequest,
            "generate_angles",
            "generate_angles",
            "images",
            "POST /v1/images/views",
            field_aliases={"image": "reference_image"},
        ),
    )
}

TASKS: tuple[str, ...] = tuple(TASK_TABLE)


def get_task(name: str) -> Task:
    """The table row of task ``name``; an unknown name raises ``InvalidParameterError`` listing the tasks."""
    try:
        return TASK_TABLE[name]
    except KeyError:
        raise InvalidParameterError("task", f"unknown task {name!r}; valid tasks are {list(TASKS)}") from None
