"""The OpenAI-compatible HTTP server over any backend.

Routes: ``GET /health``, ``GET /v1/models``, ``POST /v1/images/generations`` (JSON),
``POST /v1/images/edits`` (multipart ``image``/``image[]``, optional ``mask``), ``GET /v1/files/{name}``
(what ``url`` answers point at), and the video routes (``server.videos``) when the backend can make
video. ``n`` images use seeds s, s+1, ...; each answer item carries its ``seed``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..backends.base_backend import VisionBackend
from ..errors import AbstractVisionError, InvalidParameterError
from ..media.masks import to_white_mask
from ..tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, MULTI_VIEW_IMAGE, TEXT_TO_IMAGE, TEXT_TO_VIDEO, get_task
from ..types import GeneratedAsset, ImageEditRequest, ImageGenerationRequest, MultiAngleRequest
from .errors import ApiError, from_library_error
from .limits import GenerationGate
from .params import EDIT_FIELDS, IMAGE_FIELDS, VIEW_FIELDS, parse_fields
from .state import ServerState
from .videos import video_router

logger = logging.getLogger(__name__)

IMAGE_FILE_FIELDS = ("image", "image[]")


def create_app(
    backend: VisionBackend,
    *,
    model_id: str | None = None,
    api_key: str | None = None,
    max_concurrent: int = 1,
    max_waiting: int = 32,
    max_upload_bytes: int = 25 * 2**20,
) -> FastAPI:
    """A FastAPI app serving ``backend``.

    Args:
        backend (`VisionBackend`): what generates; it is called from worker threads, at most
            ``max_concurrent`` at a time.
        model_id (`str`, *optional*): the name clients use as ``model``; defaults to the backend's model.
        api_key (`str`, *optional*): when set, every ``/v1`` route requires ``Authorization: Bearer <key>``.
        max_concurrent (`int`, defaults to 1): generations at a time; above 1 only for thread-safe backends.
        max_waiting (`int`, defaults to 32): requests queued for the gate before answering 429.
        max_upload_bytes (`int`, defaults to 25 MiB): larger request bodies get 413.
    """
    if max_concurrent < 1:
        raise InvalidParameterError("max_concurrent", f"must be >= 1, got {max_concurrent}")
    if max_waiting < 1:
        raise InvalidParameterError(
            "max_waiting", f"must be >= 1 (every request queues before it runs), got {max_waiting}"
        )
    if max_concurrent > 1 and not getattr(backend, "thread_safe", False):
        raise InvalidParameterError(
            "max_concurrent",
            f"backend {backend.name!r} runs one generation at a time (its pipeline is not thread-safe); use 1",
        )
    state = ServerState(
        backend=backend,
        model_id=model_id or backend.model_name or backend.name,
        api_key=api_key,
        max_upload_bytes=max_upload_bytes,
        gate=GenerationGate(max_concurrent, max_waiting),
    )
    app = FastAPI(title="AbstractVision", version=__version__)
    app.state.abstractvision = state
    _install_error_handlers(app)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "backend": backend.name,
            "model": state.model_id,
            "tasks": list(backend.get_capabilities().supported_tasks),
            "active": state.gate.active,
            "waiting": state.gate.waiting,
        }

    @app.get("/v1/files/{name}")
    async def download(name: str) -> Response:
        found = state.store.get(name)
        if found is None:
            raise ApiError(404, f"no file {name!r} (files are kept for the last few answers only)", code="not_found")
        return Response(content=found[0], media_type=found[1])

    api = APIRouter(prefix="/v1", dependencies=[Depends(state.check_auth)])

    @api.get("/models")
    async def models() -> dict[str, Any]:
        entry = {"id": state.model_id, "object": "model", "created": state.created, "owned_by": "abstractvision"}
        return {"object": "list", "data": [entry]}

    @api.post("/images/generations")
    async def generations(request: Request) -> dict[str, Any]:
        parsed = parse_fields(await state.read_json(request), IMAGE_FIELDS, from_form=False)
        state.check_model(parsed.model)
        first = state.prepare(TEXT_TO_IMAGE, ImageGenerationRequest(**state.request_fields(parsed)))
        assets = await state.generate(_consecutive_seeds(backend, TEXT_TO_IMAGE, first, parsed.n))
        return state.answer(request, assets, parsed.response_format)

    @api.post("/images/edits")
    async def edits(request: Request) -> dict[str, Any]:
        form = await state.read_form(request)
        parsed = parse_fields(state.text_fields(form, (*IMAGE_FILE_FIELDS, "mask")), EDIT_FIELDS, from_form=True)
        state.check_model(parsed.model)
        image = await state.read_file(form, IMAGE_FILE_FIELDS, required=True)
        mask = await state.read_file(form, ("mask",), required=False)
        fields = state.request_fields(parsed)
        first = state.prepare(IMAGE_TO_IMAGE, ImageEditRequest(image=image, mask=_white_mask(mask), **fields))
        assets = await state.generate(_consecutive_seeds(backend, IMAGE_TO_IMAGE, first, parsed.n))
        return state.answer(request, assets, parsed.response_format)

    @api.post("/images/views")
    async def views(request: Request) -> dict[str, Any]:
        """AbstractVision's multi-view route: one image per angle (``angles``, default front/three_quarter/...)."""
        parsed = parse_fields(await state.read_json(request), VIEW_FIELDS, from_form=False)
        state.check_model(parsed.model)
        fields = state.request_fields(parsed)
        if "angles" in fields:
            fields["angles"] = tuple(fields["angles"])
        prepared = state.prepare(MULTI_VIEW_IMAGE, MultiAngleRequest(**fields))
        assets = await state.generate(lambda: get_task(MULTI_VIEW_IMAGE).run(backend, prepared))
        return state.answer(request, assets, parsed.response_format)

    app.include_router(api)
    if {TEXT_TO_VIDEO, IMAGE_TO_VIDEO} & set(backend.get_capabilities().supported_tasks):
        app.include_router(video_router(state))
    return app


def _consecutive_seeds(backend: VisionBackend, task: str, first: Any, n: int) -> Callable[[], list[GeneratedAsset]]:
    """Work making ``n`` images with seeds s, s+1, ... (as sd-server and diffusers batches number them)."""
    row = get_task(task)
    return lambda: [row.run(backend, dataclasses.replace(first, seed=first.seed + i))[0] for i in range(n)]


def _white_mask(mask: bytes | None) -> bytes | None:
    """Masks in OpenAI's convention (transparent = edit) become white = repaint; others pass as grey levels."""
    return None if mask is None else to_white_mask(mask)  # a mask that does not decode: 400 naming `mask`


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(AbstractVisionError)
    async def library_error(request: Request, exc: AbstractVisionError) -> JSONResponse:
        error = from_library_error(exc)
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        error = ApiError(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}", code=code)
        return JSONResponse(error.body(), status_code=error.status, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        error = ApiError(500, f"internal server error ({type(exc).__name__}); see the server log", type="server_error")
        return JSONResponse(error.body(), status_code=500)
