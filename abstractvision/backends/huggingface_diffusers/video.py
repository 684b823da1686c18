"""Video through diffusers: a request becomes the family's pipeline call, its frames an encoded file.

The family (``video_families``, picked by ``ModelSpec.family``) says which pipeline class runs the task,
which argument takes the guidance and the frame rate, and whether a prompt is taken; its frame-count and
size rules were already checked by ``validation.check_request``. One CPU generator per video, as for
images; the frames are encoded by ``media.video`` in ``request.output_format``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ...media.images import decode_image, resized
from ...media.png import encode_png
from ...media.video import DEFAULT_FORMAT, encode_video
from ...types import GeneratedAsset, ImageToVideoRequest, ProgressCallback, VideoGenerationRequest
from ...video_families import VIDEO_FAMILIES

if TYPE_CHECKING:
    from .backend import HuggingFaceDiffusersVisionBackend

#: The frame rate recorded and encoded when neither the request nor the model's defaults set one.
DEFAULT_FPS = 8


def run_video(
    backend: HuggingFaceDiffusersVisionBackend,
    task: str,
    request: VideoGenerationRequest | ImageToVideoRequest,
    progress: ProgressCallback | None,
) -> GeneratedAsset | list[GeneratedAsset]:
    """Generate ``request`` (text to video, or image to video) on ``backend`` and encode it (plus its frames)."""
    family = VIDEO_FAMILIES[backend.model_spec.family]
    fps = request.fps or DEFAULT_FPS
    output_format = request.output_format or DEFAULT_FORMAT
    params: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "width": request.width,
        "height": request.height,
        "num_frames": request.num_frames,
        "fps": fps,
        "steps": request.steps,
        "guidance_scale": request.guidance_scale,
        "output_format": output_format,
    }
    call: dict[str, Any] = {
        "num_inference_steps": request.steps,
        family.guidance_argument: request.guidance_scale,
        "width": request.width,
        "height": request.height,
        "num_frames": request.num_frames,
        "output_type": "np",
    }
    if family.takes_prompt:
        call.update(prompt=request.prompt, negative_prompt=request.negative_prompt)
    if family.fps_argument:
        call[family.fps_argument] = fps
    if isinstance(request, ImageToVideoRequest):
        image = decode_image("image", request.image, "RGB")
        call["image"] = resized(image, request.width or image.width, request.height or image.height)
        params["image_sha256"] = hashlib.sha256(request.image).hexdigest()
    result, (metadata,) = backend.run_pipeline(
        task, task, request.extra, [request.seed], params, call, progress, _frame_size
    )
    frames = _uint8_frames(result.frames[0])
    params["num_frames"] = len(frames)
    if request.frame_pngs:
        params["frame_pngs"] = True
    data, mime_type = encode_video(frames, fps, output_format, metadata)
    video = GeneratedAsset(media_type="video", data=data, mime_type=mime_type, metadata=metadata)
    return [video, *_frame_assets(frames, metadata)] if request.frame_pngs else video


def _frame_assets(frames: Any, metadata: dict[str, Any]) -> list[GeneratedAsset]:
    """Each frame as a PNG (the exact pixels the video was encoded from), labelled ``frame0000``, ..."""
    from PIL import Image

    assets = []
    for index, frame in enumerate(frames):
        frame_metadata = {**metadata, "frame": {"label": f"frame{index:04d}", "index": index}}
        data = encode_png(Image.fromarray(frame), frame_metadata)
        assets.append(GeneratedAsset("image", data, "image/png", frame_metadata))
    return assets


def _frame_size(result: Any) -> tuple[int, int]:
    frames = result.frames[0]
    return int(frames.shape[2]), int(frames.shape[1])


def _uint8_frames(frames: Any) -> Any:
    """Float frames in [0, 1] (``output_type="np"``) as uint8 RGB, ``(frames, height, width, 3)``."""
    import numpy as np

    return (np.clip(np.asarray(frames, dtype=np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
