"""A backend that sends requests to an OpenAI-compatible image server over HTTP.

Text to image is ``POST {base_url}/images/generations`` (JSON); image to image is
``POST {base_url}/images/edits`` (multipart, with the mask when given). Video is opt-in through
``text_to_video_path`` / ``image_to_video_path``. A server profile (``profiles``) says how
seed, steps, guidance and negative prompt travel, since OpenAI's own API has none of them; every
asset records exactly what was sent and whether the seed is known to be honoured.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from PIL import Image

from ... import __version__
from ...attempts import job_attempts
from ...errors import BackendResponseError, InvalidParameterError, Scope
from ...media.images import check_declared_size
from ...media.masks import white_to_alpha
from ...media.mime import EXTENSIONS, IMAGE_MIME_TYPES, sniff_mime
from ...media.png import PARAMETERS_KEY, RECORD_KEY, encode_png, read_png_text
from ...registry import ModelSpec, resolve_model
from ...tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, TEXT_TO_IMAGE, TEXT_TO_VIDEO
from ...types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    ProgressCallback,
    VideoGenerationRequest,
    VisionBackendCapabilities,
    VisionRequest,
)
from ..base_backend import VisionBackend
from ..options import configured_identity, identity, placement
from .profiles import EXTENSION_PARAMS, PROFILES
from .responses import data_items, item_bytes, media_type_of, response_json
from .transport import HttpTransport, RetryPolicy, origin_of, redact_url
from .video import request_video

RESPONSE_FORMATS = ("b64_json", "url")
SIZE_PATTERN = re.compile(r"^[1-9][0-9]*x[1-9][0-9]*$")
A1111_SEED = re.compile(r"(?:^|, )Seed: (\d+)")
RE_ENCODED_MIME_TYPES = ("image/png", "image/jpeg", "image/webp")
RECORDED_PARAMS = (
    *("prompt", "negative_prompt", "width", "height", "steps", "guidance_scale", "strength"),
    *("num_frames", "fps"),
)


@dataclass
class OpenAICompatibleBackendConfig:
    """Options of the ``openai`` backend (``backend.<field>`` in configs).

    Args:
        base_url (`str`): the server's ``/v1`` root, e.g. ``http://127.0.0.1:8000/v1``. Required.
        api_key (`str`, *optional*): sent as ``Authorization: Bearer``; never logged or recorded.
        api_key_env (`str`, *optional*): name of an environment variable holding the key (keeps it out of configs).
        model_id (`str`, *optional*): sent as ``model``; defaults to the model config's name (in runs) or, in
            library use, is looked up once in the registry for defaults.
        profile (`str`, defaults to ``"generic"``): ``openai`` (standard fields only), ``generic`` and
            ``vllm-omni`` (seed/steps/guidance/negative_prompt in the body), ``sdcpp-server``, ``localai``.
        response_format (`str`, defaults to ``"b64_json"``): or ``url`` (then the file is downloaded), or ``None``
            to leave the field out (OpenAI's gpt-image models refuse it); either answer is understood.
        url_origins (`list[str]`, defaults to none): origins (``https://cdn.example.com``) besides ``base_url``'s
            that ``url`` answers may be downloaded from; they never receive the API key.
        max_response_mb (`float`, defaults to 512): the largest answer read; a larger one fails its group.
        n (`int`, defaults to 1): images per call of ``generate_images``/``edit_images``.
        size (`str`, *optional*): ``WxH`` sent when a request sets no width/height.
        timeout_s (`float`, defaults to 300): seconds to wait for an answer.
        connect_timeout_s (`float`, defaults to 10): seconds to wait for a connection.
        max_retries (`int`, defaults to 3): retries on connection errors, 429 and 5xx.
        backoff_s (`float`, defaults to 0.5): first retry delay, doubled each time (``Retry-After`` wins).
        max_backoff_s (`float`, defaults to 60): the longest wait between two attempts.
        text_to_video_path / image_to_video_path (`str`, *optional*): enable video, e.g. ``/videos``.
        video_poll_interval_s (`float`, defaults to 2): seconds between status polls of a video job.
        video_timeout_s (`float`, defaults to 900): overall limit for one video, polling included.
    """

    def job_identity(self, model: ModelSpec) -> dict[str, Any]:
        """What of this config decides the output: the model name sent, the profile, the default size."""
        return configured_identity(self)

    base_url: str = placement("")
    api_key: str | None = placement(repr=False)
    api_key_env: str | None = placement()
    model_id: str | None = identity()
    profile: str = identity("generic")
    response_format: str | None = placement("b64_json")
    url_origins: list[str] = placement(default_factory=list)
    max_response_mb: float = placement(512.0)
    n: int = placement(1)
    size: str | None = identity()
    timeout_s: float = placement(300.0)
    connect_timeout_s: float = placement(10.0)
    max_retries: int = placement(3)
    backoff_s: float = placement(0.5)
    max_backoff_s: float = placement(60.0)
    text_to_video_path: str | None = placement()
    image_to_video_path: str | None = placement()
    video_poll_interval_s: float = placement(2.0)
    video_timeout_s: float = placement(900.0)

    def __post_init__(self) -> None:
        if not self.base_url or self.base_url == "???":
            raise InvalidParameterError(
                "backend.base_url", "is required: the server's /v1 root, e.g. http://127.0.0.1:8000/v1"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise InvalidParameterError(
                "backend.base_url", f"must start with http:// or https://, got {redact_url(self.base_url)!r}"
            )
        if self.profile not in PROFILES:
            raise InvalidParameterError("backend.profile", f"got {self.profile!r}; valid profiles are {list(PROFILES)}")
        if self.response_format is not None and self.response_format not in RESPONSE_FORMATS:
            raise InvalidParameterError(
                "backend.response_format",
                f"got {self.response_format!r}; use one of {list(RESPONSE_FORMATS)} or null (not sent)",
            )
        if self.response_format == "url" and not PROFILES[self.profile].url_responses:
            raise InvalidParameterError(
                "backend.response_format", f"the {self.profile} server always answers b64_json; use b64_json"
            )
        if self.size is not None and not SIZE_PATTERN.match(str(self.size)):
            raise InvalidParameterError("backend.size", f"must look like 512x512, got {self.size!r}")
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise InvalidParameterError(
                "backend.api_key_env", f"environment variable {self.api_key_env!r} is not set; export it or unset this"
            )
        for allowed in self.url_origins:
            if not isinstance(allowed, str) or origin_of(allowed) != allowed.rstrip("/"):
                raise InvalidParameterError(
                    "backend.url_origins", f"must hold origins such as 'https://cdn.example.com', got {allowed!r}"
                )
        _check_positive("backend.max_response_mb", self.max_response_mb)
        _check_positive("backend.n", self.n, integer=True)
        _check_positive("backend.max_retries", self.max_retries, integer=True, allow_zero=True)
        for name in ("timeout_s", "connect_timeout_s", "video_poll_interval_s", "video_timeout_s"):
            _check_positive(f"backend.{name}", getattr(self, name))
        for name in ("backoff_s", "max_backoff_s"):
            _check_positive(f"backend.{name}", getattr(self, name), allow_zero=True)


class OpenAICompatibleVisionBackend(VisionBackend):
    """Generate through an OpenAI-compatible HTTP server (see ``OpenAICompatibleBackendConfig``).

    Safe to call from several threads at once (one HTTP session per thread), so a runner may keep
    several requests in flight; the server decides how many it runs at a time.
    """

    name = "openai"
    thread_safe = True

    def __init__(self, config: OpenAICompatibleBackendConfig, model: ModelSpec | None = None) -> None:
        self.config = config
        self.model_spec = model or (resolve_model(config.model_id) if config.model_id else None)
        self.model_sent = config.model_id or (self.model_spec.name if self.model_spec else None)
        self.profile = PROFILES[config.profile]
        self._context = {"backend": self.name, "model": self.model_sent}
        api_key = config.api_key or (os.environ.get(config.api_key_env) if config.api_key_env else None)
        self._transport = HttpTransport(
            config.base_url,
            api_key=api_key,
            timeout_s=config.timeout_s,
            connect_timeout_s=config.connect_timeout_s,
            retry=RetryPolicy(config.max_retries, config.backoff_s, config.max_backoff_s),
            max_response_bytes=int(config.max_response_mb * 2**20),
            url_origins=config.url_origins,
            context=self._context,
        )

    @property
    def model_name(self) -> str | None:
        return self.model_sent

    def get_capabilities(self) -> VisionBackendCapabilities:
        tasks = [TEXT_TO_IMAGE, IMAGE_TO_IMAGE]
        if self.config.text_to_video_path:
            tasks.append(TEXT_TO_VIDEO)
        if self.config.image_to_video_path:
            tasks.append(IMAGE_TO_VIDEO)
        return VisionBackendCapabilities(supported_tasks=tuple(tasks))

    def preload(self) -> None:
        """Check that the server answers (any HTTP status will do); unreachable raises before any work."""
        try:
            self._transport.request("GET", "models")
        except BackendResponseError:
            pass

    def preflight(self, *, network: bool = True) -> list[str]:
        """One ``GET /models``, tried once: the server is reachable and takes the key. A server without that
        route (404) is reachable, but its key is then checked only by the first job: say so."""
        if not network:
            return []
        with job_attempts(1):
            try:
                self._transport.request("GET", "models")
            except BackendResponseError as exc:
                if exc.scope is Scope.GROUP and exc.status_code != 404:
                    raise
                return [f"{exc}; the server is reachable, its key and model are checked by the first job"]
        return []

    def unload(self) -> None:
        self._transport.close()

    # -- images -----------------------------------------------------------------------------------

    def generate_image(
        self, request: ImageGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        return self.generate_images(request, n=1)[0]

    def generate_images(self, request: ImageGenerationRequest, *, n: int | None = None) -> list[GeneratedAsset]:
        """``n`` images (default ``backend.n``) in one request; seeds s, s+1, ... where the server honours them."""
        fields, unsent = self._image_fields(request, n or self.config.n)
        return self._images(TEXT_TO_IMAGE, request, "images/generations", fields, unsent, json=fields)

    def can_batch(self, task: str, seeds: Sequence[int | None]) -> bool:
        """Only where no seed is sent (profile ``openai``): a server takes one seed per request, so ``n`` images
        would not be the jobs' seeds; unseeded, one request for ``n`` images is what ``n`` requests would be."""
        unsent = self.profile.map_params(None, {"seed": 0})[1]
        return task == TEXT_TO_IMAGE and "seed" in unsent

    def generate_batch(
        self, requests: Sequence[ImageGenerationRequest], *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """Requests alike but for their (unsent) seeds as one request for ``n`` images."""
        return self.generate_images(requests[0], n=len(requests))

    def edit_image(self, request: ImageEditRequest, *, progress: ProgressCallback | None = None) -> GeneratedAsset:
        return self.edit_images(request, n=1)[0]

    def edit_images(self, request: ImageEditRequest, *, n: int | None = None) -> list[GeneratedAsset]:
        """Like ``generate_images`` for image to image (and inpainting when ``request.mask`` is set)."""
        fields, unsent = self._image_fields(request, n or self.config.n)
        files = [_upload(self.profile.edit_image_field, "image", request.image)]
        if request.mask is not None:
            mask = white_to_alpha(request.mask) if self.profile.mask_alpha else request.mask
            files.append(_upload("mask", "mask", mask))
        sent, send = _multipart(fields, files)
        if request.mask is not None:
            sent["mask_convention"] = "alpha" if self.profile.mask_alpha else "white"
        return self._images(IMAGE_TO_IMAGE, request, "images/edits", sent, unsent, **send)

    # -- video ------------------------------------------------------------------------------------

    def generate_video(
        self, request: VideoGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        return self._video(TEXT_TO_VIDEO, request)

    def image_to_video(
        self, request: ImageToVideoRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        return self._video(IMAGE_TO_VIDEO, request)

    def check_request(self, request: VisionRequest) -> None:
        """A video format or frame PNGs this server cannot be asked for is refused, not silently dropped."""
        super().check_request(request)
        if not isinstance(request, (VideoGenerationRequest, ImageToVideoRequest)):
            return
        if request.frame_pngs:
            raise InvalidParameterError(
                "frame_pngs", "the openai backend returns the server's video file alone, not its frames; unset it"
            )
        if request.output_format is not None and not self.profile.sends_video_format:
            raise InvalidParameterError(
                "output_format",
                f"the {self.profile.name} profile cannot ask the server for a video format, and the openai backend "
                "returns the server's own file without re-encoding it; unset it (or use backend.profile=generic "
                "with a server that takes `output_format`, such as `abstractvision serve`)",
            )

    # -- shared -----------------------------------------------------------------------------------

    def _video(self, task: str, request: VideoGenerationRequest | ImageToVideoRequest) -> GeneratedAsset:
        """POST ``request`` to the task's configured path: JSON, or multipart with the image (image to video)."""
        path = self.config.image_to_video_path if task == IMAGE_TO_VIDEO else self.config.text_to_video_path
        if not path:
            raise self.unsupported(task)
        self.check_request(request)
        fields, unsent = self._fields(request, n=None)
        if request.output_format is not None:
            fields["output_format"] = request.output_format
        if isinstance(request, ImageToVideoRequest):
            sent, send = _multipart(fields, [_upload("input_reference", "image", request.image)])
        else:
            sent, send = fields, {"json": fields}
        started = time.perf_counter()
        data, mime, info = request_video(
            self._transport,
            path,
            poll_interval_s=self.config.video_poll_interval_s,
            timeout_s=self.config.video_timeout_s,
            context=self._context,
            **send,
        )
        metadata = self._metadata(task, request, path, sent, unsent, time.perf_counter() - started)
        metadata.update(self._seed_record(request.seed, 0, {}, data, mime))
        metadata["response"] = {**_describe_answer(data, mime, info.get("answer", "content")), **info}
        return GeneratedAsset(media_type="video", data=data, mime_type=mime, metadata=metadata)

    def _image_fields(self, request: VisionRequest, n: int) -> tuple[dict[str, Any], list[str]]:
        _check_positive("n", n, integer=True)
        fields, unsent = self._fields(request, n=n)
        if self.profile.sends_response_format and self.config.response_format:
            fields["response_format"] = self.config.response_format
        return fields, unsent

    def _fields(self, request: VisionRequest, *, n: int | None) -> tuple[dict[str, Any], list[str]]:
        """What to send for ``request``: the profile's mapping, then the standard OpenAI fields."""
        params = {name: getattr(request, name, None) for name in EXTENSION_PARAMS}
        fields, unsent = self.profile.map_params(request.prompt, params)
        if self.profile.sends_model and self.model_sent:
            fields["model"] = self.model_sent
        if n is not None:
            fields["n"] = n
        size = self._size(request)
        if size:
            fields["size"] = size
        fields.update({k: v for k, v in request.extra.items() if v is not None})
        return fields, unsent

    def _size(self, request: VisionRequest) -> str | None:
        if request.width is None and request.height is None:
            return self.config.size
        if request.width is None or request.height is None:
            missing = "width" if request.width is None else "height"
            raise InvalidParameterError(missing, "the server takes the size as WxH; set both width and height")
        return f"{request.width}x{request.height}"

    def _images(
        self,
        task: str,
        request: VisionRequest,
        endpoint: str,
        sent: dict[str, Any],
        unsent: list[str],
        **send: Any,
    ) -> list[GeneratedAsset]:
        started = time.perf_counter()
        body = response_json(self._transport.request("POST", endpoint, **send), self._context)
        downloads = [item_bytes(self._transport, item, self._context) for item in data_items(body, self._context)]
        elapsed = time.perf_counter() - started
        assets = []
        for index, (data, answer) in enumerate(downloads):
            mime = media_type_of(data, IMAGE_MIME_TYPES, self._context)
            metadata = self._metadata(task, request, endpoint, sent, unsent, elapsed)
            try:
                with Image.open(io.BytesIO(data)) as header:  # reads the header only: a bomb stops here
                    check_declared_size("answer image", *header.size)
                metadata.update(self._seed_record(request.seed, index, body["data"][index], data, mime))
                metadata["image_index"] = index
                metadata["response"] = _describe_answer(data, mime, answer)
                assets.append(_image_asset(data, mime, metadata))
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                raise BackendResponseError(
                    f"image {index} of the answer is a broken or oversized {mime} file ({exc})", **self._context
                ) from exc
        return assets

    def _metadata(
        self,
        task: str,
        request: VisionRequest,
        endpoint: str,
        sent: dict[str, Any],
        unsent: list[str],
        elapsed: float,
    ) -> dict[str, Any]:
        params = {name: getattr(request, name) for name in RECORDED_PARAMS if hasattr(request, name)}
        return {
            "backend": self.name,
            "model": self.model_sent,
            "model_source": redact_url(self.config.base_url),
            "task": task,
            "params": params,
            "scheduler": request.extra.get("scheduler"),
            "device": "remote",
            "dtype": None,
            "versions": {"abstractvision": __version__, "requests": requests.__version__},
            "timings": {"load_s": 0.0, "generate_s": round(elapsed, 4)},
            "profile": self.profile.name,
            "endpoint": f"POST {endpoint}",
            "sent": sent,
            "unsent_params": unsent,
        }

    def _seed_record(self, requested: int | None, index: int, item: Any, data: bytes, mime: str) -> dict[str, Any]:
        """The seed this asset was made with as far as it is known, how it is known, and the record
        the server embedded in its PNG (AbstractVision's JSON chunk), if any."""
        record: dict[str, Any] = {}
        reported = item.get("seed") if isinstance(item, Mapping) else None
        if mime == "image/png":
            text = read_png_text(data)
            if RECORD_KEY in text:
                record["server_metadata"] = json.loads(text[RECORD_KEY])
            match = A1111_SEED.search(text.get(PARAMETERS_KEY, ""))
            if reported is None and match:
                reported = int(match.group(1))
        if isinstance(reported, int) and not isinstance(reported, bool):
            return {**record, "seed": reported, "seed_honoured": True, "seed_source": "server"}
        if requested is not None and self.profile.seed_honoured:
            return {**record, "seed": requested + index, "seed_honoured": True, "seed_source": "profile"}
        return {**record, "seed": None, "seed_honoured": False, "seed_source": None}


def _check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> None:
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        rule = "an integer" if integer else "a number"
        raise InvalidParameterError(name, f"must be {rule} {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def _upload(field_name: str, stem: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    """A multipart file part with a filename and MIME type that match the bytes."""
    mime = sniff_mime(data)
    if mime not in IMAGE_MIME_TYPES:
        raise InvalidParameterError(stem, f"must be a PNG, JPEG, WebP or GIF file (sniffed {mime})")
    return field_name, (f"{stem}{EXTENSIONS[mime]}", data, mime)


def _describe_upload(part: tuple[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    field_name, (filename, data, mime) = part
    return {"field": field_name, "filename": filename, "mime_type": mime, **_digest(data)}


def _describe_answer(data: bytes, mime: str, answer: str) -> dict[str, Any]:
    return {"format": answer, "mime_type": mime, **_digest(data)}


def _digest(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _multipart(
    fields: dict[str, Any], files: list[tuple[str, tuple[str, bytes, str]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``fields`` and ``files`` as a multipart request: what to record as sent, and ``requests``' arguments."""
    sent = {"fields": fields, "files": [_describe_upload(f) for f in files]}
    return sent, {"data": {k: _form_value(v) for k, v in fields.items()}, "files": files}


def _form_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _image_asset(data: bytes, mime: str, metadata: dict[str, Any]) -> GeneratedAsset:
    """A PNG carrying ``metadata`` (like every backend's images); other media pass through unchanged."""
    with Image.open(io.BytesIO(data)) as image:
        if mime not in RE_ENCODED_MIME_TYPES or getattr(image, "n_frames", 1) > 1:
            return GeneratedAsset(media_type="image", data=data, mime_type=mime, metadata=metadata)
        image.load()
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        png = encode_png(image.convert("RGBA" if has_alpha else "RGB"), metadata)
    return GeneratedAsset(media_type="image", data=png, mime_type="image/png", metadata=metadata)
