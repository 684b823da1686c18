"""What every route of one server shares: the backend, its limits, auth, and how answers are shaped."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..backends.base_backend import VisionBackend
from ..errors import AbstractVisionError
from ..types import GeneratedAsset, VisionRequest
from ..vision_manager import VisionManager
from .errors import ApiError, from_library_error, invalid
from .limits import GenerationGate, read_limited
from .media_store import MediaStore
from .params import Parsed

T = TypeVar("T")

SEED_BOUND = 2**32  # seeds the server draws stay in the range every SD tool accepts
MAX_FORM_PARTS = 32


@dataclass
class ServerState:
    """One served backend and its settings."""

    backend: VisionBackend
    model_id: str
    api_key: str | None = None
    max_upload_bytes: int = 25 * 2**20
    gate: GenerationGate = field(default_factory=GenerationGate)
    store: MediaStore = field(default_factory=MediaStore)
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        self.manager = VisionManager(self.backend)

    def check_auth(self, request: Request) -> None:
        """401 unless the request carries ``Authorization: Bearer <api key>`` (when a key is set)."""
        if self.api_key is None:
            return
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.api_key.encode()):
            raise ApiError(
                401,
                "missing or incorrect API key: send `Authorization: Bearer <key>` with the key this server was "
                "started with (`abstractvision serve --api-key`)",
                code="invalid_api_key",
            )

    def check_model(self, model: str | None) -> None:
        if model is not None and model != self.model_id:
            raise ApiError(
                404,
                f"model {model!r} is not served here; this server serves {self.model_id!r} (see GET /v1/models)",
                param="model",
                code="model_not_found",
            )

    def prepare(self, task: str, request: VisionRequest) -> VisionRequest:
        """Capability, model defaults and validation, before the request waits for the gate."""
        try:
            return self.manager.prepare(task, request)
        except AbstractVisionError as exc:
            raise from_library_error(exc) from exc

    async def generate(self, work: Callable[[], T]) -> T:
        """Run ``work()`` (blocking backend calls) through the gate; library errors become API errors."""
        try:
            return await self.gate.run(work)
        except AbstractVisionError as exc:
            raise from_library_error(exc) from exc

    @staticmethod
    def request_fields(parsed: Parsed) -> dict[str, Any]:
        """Keyword arguments for a request dataclass: the parameters, ``extra``, and a seed (drawn when unset,
        and reported in the answer)."""
        fields = {"prompt": None, **parsed.params, "extra": parsed.extra}
        if fields.get("seed") is None:
            fields["seed"] = secrets.randbelow(SEED_BOUND)
        return fields

    async def read_json(self, request: Request) -> dict[str, Any]:
        body = await read_limited(request.stream(), request.headers.get("content-length"), self.max_upload_bytes)
        try:
            payload = json.loads(body or b"null")
        except ValueError as exc:
            raise invalid("body", f"is not valid JSON ({exc})") from exc
        if not isinstance(payload, dict):
            raise invalid("body", "must be a JSON object with at least `prompt`")
        return payload

    async def read_form(self, request: Request) -> FormData:
        """A multipart body, whole, within ``max_upload_bytes``."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise invalid("body", "must be multipart/form-data (files `image` or `image[]`, optional `mask`)")
        body = await read_limited(request.stream(), request.headers.get("content-length"), self.max_upload_bytes)

        async def replay() -> Any:
            yield body

        parser = MultiPartParser(
            request.headers,
            replay(),
            max_files=MAX_FORM_PARTS,
            max_fields=MAX_FORM_PARTS,
            max_part_size=self.max_upload_bytes,
        )
        try:
            return await parser.parse()
        except MultiPartException as exc:
            raise invalid("body", f"malformed multipart form ({exc.message})") from exc

    @staticmethod
    async def read_file(form: FormData, names: Sequence[str], *, required: bool) -> bytes | None:
        """The one uploaded file under any of ``names`` (``image`` or ``image[]``)."""
        files = [item for name in names for item in form.getlist(name)]
        if not files:
            if required:
                raise invalid(names[0], "required: upload it as a multipart file")
            return None
        if len(files) > 1:
            raise invalid(names[0], f"this server takes one file here, got {len(files)}")
        if not isinstance(files[0], UploadFile):
            raise invalid(names[0], "must be a file upload, not a text field")
        return await files[0].read()

    @staticmethod
    def text_fields(form: FormData, file_fields: Sequence[str]) -> dict[str, Any]:
        fields = {k: v for k, v in form.multi_items() if k not in file_fields}
        for name, value in fields.items():
            if not isinstance(value, str):
                raise invalid(name, "must be a text field, not a file")
        return fields

    def answer(self, request: Request, assets: Sequence[GeneratedAsset], response_format: str) -> dict[str, Any]:
        """The OpenAI images answer (``created``, ``data``), plus each item's ``seed`` (and a video frame's
        ``label``) and the ``size``."""
        data = []
        for asset in assets:
            if response_format == "url":
                name = self.store.put(asset.data, asset.mime_type)
                item: dict[str, Any] = {"url": f"{request.base_url}v1/files/{name}"}
            else:
                item = {"b64_json": base64.b64encode(asset.data).decode("ascii")}
            item["seed"] = asset.metadata.get("seed")
            if "frame" in asset.metadata:  # a video's frame PNG (frame_pngs)
                item["label"] = asset.metadata["frame"]["label"]
            data.append(item)
        answer: dict[str, Any] = {"created": int(time.time()), "data": data}
        params = assets[0].metadata.get("params", {}) if assets else {}
        if params.get("width") and params.get("height"):
            answer["size"] = f"{params['width']}x{params['height']}"
        if assets and assets[0].mime_type == "image/png":
            answer["output_format"] = "png"
        return answer
