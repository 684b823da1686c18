"""Video routes, mounted when the backend can make video.

Asynchronous, as OpenAI's ``/v1/videos``: ``POST /v1/videos`` answers a job (``id``, ``status``),
``GET /v1/videos/{id}`` reports it (``queued`` -> ``in_progress`` -> ``completed`` | ``failed``) and
``GET /v1/videos/{id}/content`` returns the file. Synchronous: ``POST /v1/videos/generations`` answers
like the images routes (``data: [{b64_json | url, seed}]``). Both take JSON, or multipart with an
``input_reference`` image (image to video), and ``output_format`` (``mp4``, ``webm``, ``gif``, ``webp``) and
``frame_pngs``: the frames as PNGs too, as ``GET /v1/videos/{id}/content?variant=frame0000`` (their labels
are the job's ``frames``) or as the synchronous answer's further ``data`` items (each with its ``label``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..media.video import FORMATS as VIDEO_FORMATS
from ..tasks import IMAGE_TO_VIDEO, TEXT_TO_VIDEO, get_task
from ..types import GeneratedAsset, ImageToVideoRequest, VideoGenerationRequest
from .errors import ApiError
from .params import VIDEO_FIELDS, parse_fields
from .state import ServerState

logger = logging.getLogger(__name__)

MAX_JOBS = 256
REFERENCE_FIELD = "input_reference"
VIDEO_VARIANT = "video"


@dataclass
class VideoJob:
    id: str
    model: str
    seed: int
    status: str = "queued"
    created_at: int = field(default_factory=lambda: int(time.time()))
    completed_at: int | None = None
    error: dict[str, Any] | None = None
    #: the video, then its frames' PNGs when ``frame_pngs`` was asked for
    assets: list[GeneratedAsset] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        view = {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": self.status,
            "progress": 100 if self.status == "completed" else 0,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "seed": self.seed,
        }
        if self.error:
            view["error"] = self.error
        if len(self.assets) > 1:
            view["frames"] = [frame_label(asset) for asset in self.assets[1:]]
        return view

    def variant(self, name: str) -> GeneratedAsset:
        """The video (``video``) or one of its frame PNGs (its label, ``frame0000``, ...)."""
        if not self.assets:
            raise ApiError(409, f"video job {self.id!r} is {self.status}, not completed", code="not_ready")
        if name == VIDEO_VARIANT:
            return self.assets[0]
        frames = {frame_label(asset): asset for asset in self.assets[1:]}
        if name not in frames:
            hint = f"one of its frames {list(frames)[:3]}..." if frames else "frames only with frame_pngs=true"
            raise ApiError(404, f"video job {self.id!r} has no variant {name!r}; use video or {hint}", param="variant")
        return frames[name]


def frame_label(asset: GeneratedAsset) -> str:
    return asset.metadata["frame"]["label"]


def video_router(state: ServerState) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(state.check_auth)])
    jobs: OrderedDict[str, VideoJob] = OrderedDict()
    running: set[asyncio.Task[None]] = set()

    async def prepared(request: Request) -> tuple[Any, str]:
        """The validated video request and its ``response_format``, from JSON or multipart."""
        image = None
        from_form = request.headers.get("content-type", "").startswith("multipart/form-data")
        if from_form:
            form = await state.read_form(request)
            raw = state.text_fields(form, (REFERENCE_FIELD,))
            image = await state.read_file(form, (REFERENCE_FIELD,), required=False)
        else:
            raw = await state.read_json(request)
        parsed = parse_fields(raw, VIDEO_FIELDS, from_form=from_form, output_formats=tuple(VIDEO_FORMATS))
        state.check_model(parsed.model)
        fields = {**state.request_fields(parsed), "output_format": parsed.output_format}
        if image is None:
            video = state.prepare(TEXT_TO_VIDEO, VideoGenerationRequest(**fields))
        else:
            video = state.prepare(IMAGE_TO_VIDEO, ImageToVideoRequest(image=image, **fields))
        return video, parsed.response_format

    def run(video: Any) -> list[GeneratedAsset]:
        task = IMAGE_TO_VIDEO if isinstance(video, ImageToVideoRequest) else TEXT_TO_VIDEO
        return get_task(task).run(state.backend, video)

    async def work(job: VideoJob, video: Any) -> None:
        job.status = "in_progress"
        try:
            job.assets = await state.generate(lambda: run(video))
            job.status = "completed"
        except ApiError as exc:
            job.status, job.error = "failed", {"code": exc.code, "message": exc.message}
        except Exception as exc:  # a bug must fail the job, not leave it in progress forever
            logger.exception("video job %s failed", job.id)
            job.status, job.error = "failed", {"code": "server_error", "message": type(exc).__name__}
        job.completed_at = int(time.time())

    @router.post("/videos")
    async def create(request: Request) -> dict[str, Any]:
        video, _ = await prepared(request)
        job = VideoJob(id=f"video_{secrets.token_hex(12)}", model=state.model_id, seed=video.seed)
        jobs[job.id] = job
        while len(jobs) > MAX_JOBS:
            jobs.popitem(last=False)
        task = asyncio.create_task(work(job, video))
        running.add(task)
        task.add_done_callback(running.discard)
        return job.view()

    def find(video_id: str) -> VideoJob:
        if video_id not in jobs:
            raise ApiError(404, f"no video job {video_id!r}", param="video_id", code="not_found")
        return jobs[video_id]

    @router.get("/videos/{video_id}")
    async def status(video_id: str) -> dict[str, Any]:
        return find(video_id).view()

    @router.get("/videos/{video_id}/content")
    async def content(video_id: str, variant: str = VIDEO_VARIANT) -> Response:
        asset = find(video_id).variant(variant)
        return Response(content=asset.data, media_type=asset.mime_type)

    @router.post("/videos/generations")
    async def generate(request: Request) -> dict[str, Any]:
        video, response_format = await prepared(request)
        assets = await state.generate(lambda: run(video))
        return state.answer(request, assets, response_format)

    return router
