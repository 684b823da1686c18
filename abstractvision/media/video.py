"""Video encoding: frames (uint8 ``(frames, height, width, 3)``) to MP4, WebM, GIF or animated WebP.

MP4 (H.264) and WebM (VP9) go through the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships (the
``video`` extra); GIF and animated WebP need only Pillow. Provenance goes into the container where it
has a place for it (MP4/WebM ``comment`` tag, GIF comment extension); WebP gets none, so the JSON
sidecar is the one record every format has.

Encoding is deterministic for given frames: ffmpeg runs single-threaded with ``bitexact`` flags (no
encoder version string in the file), so the same frames give byte-identical files with the same
imageio-ffmpeg binary. Another ffmpeg or Pillow build may encode the same frames to other bytes.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import BackendUnavailableError, InvalidParameterError
from .png import deterministic_record


@dataclass(frozen=True)
class VideoFormat:
    name: str
    mime_type: str
    needs_ffmpeg: bool
    codec: str | None = None  # ffmpeg encoder


FORMATS: dict[str, VideoFormat] = {
    f.name: f
    for f in (
        VideoFormat("mp4", "video/mp4", True, "libx264"),
        VideoFormat("webm", "video/webm", True, "libvpx-vp9"),
        VideoFormat("gif", "image/gif", False),
        VideoFormat("webp", "image/webp", False),
    )
}
DEFAULT_FORMAT = "mp4"
VIDEO_EXTRA_HINT = "install the video extra: pip install 'abstractvision[video]'"


def check_output_format(name: str | None, field: str = "output_format") -> VideoFormat:
    """The format called ``name`` (``None``: the default, MP4), if this environment can encode it."""
    name = DEFAULT_FORMAT if name is None else name
    if name not in FORMATS:
        raise InvalidParameterError(field, f"unknown video format {name!r}; valid formats are {list(FORMATS)}")
    video_format = FORMATS[name]
    if video_format.needs_ffmpeg and importlib.util.find_spec("imageio_ffmpeg") is None:
        raise InvalidParameterError(
            field, f"{name} needs ffmpeg from the imageio-ffmpeg package, which is not installed; {VIDEO_EXTRA_HINT}"
        )
    return video_format


def encode_video(frames: Any, fps: int, name: str | None, metadata: Mapping[str, Any]) -> tuple[bytes, str]:
    """``(file bytes, MIME type)`` of ``frames`` at ``fps`` in format ``name``, carrying ``metadata``."""
    video_format = check_output_format(name)
    comment = json.dumps(deterministic_record(metadata), sort_keys=True, default=str)
    if video_format.needs_ffmpeg:
        return _encode_ffmpeg(frames, fps, video_format, comment), video_format.mime_type
    return _encode_pillow(frames, fps, video_format.name, comment), video_format.mime_type


def _encode_ffmpeg(frames: Any, fps: int, video_format: VideoFormat, comment: str) -> bytes:
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise BackendUnavailableError(f"{video_format.name} needs imageio-ffmpeg; {VIDEO_EXTRA_HINT}") from exc
    height, width = frames.shape[1:3]
    quality = ["-crf", "18", "-preset", "medium"] if video_format.name == "mp4" else ["-crf", "30", "-b:v", "0"]
    params = [
        *quality,
        "-threads",
        "1",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-metadata",
        f"comment={comment}",
    ]
    fd, path = tempfile.mkstemp(suffix=f".{video_format.name}")
    os.close(fd)
    try:
        writer = imageio_ffmpeg.write_frames(
            path,
            (width, height),
            fps=fps,
            codec=video_format.codec,
            quality=None,
            pix_fmt_out="yuv420p",
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=params,
        )
        writer.send(None)
        for frame in frames:
            writer.send(frame.tobytes())
        writer.close()
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.unlink(path)


def _encode_pillow(frames: Sequence[Any], fps: int, kind: str, comment: str) -> bytes:
    from PIL import Image

    images = [Image.fromarray(frame) for frame in frames]
    options: dict[str, Any] = {"save_all": True, "append_images": images[1:], "duration": round(1000 / fps), "loop": 0}
    if kind == "gif":
        options["comment"] = comment.encode()
    else:
        options.update(lossless=True, method=4)
    buffer = io.BytesIO()
    images[0].save(buffer, format=kind.upper(), **options)
    return buffer.getvalue()


def read_comment(data: bytes, suffix: str) -> dict[str, Any] | None:
    """The provenance record in the container of ``data`` (``None`` where the format holds none)."""
    if suffix == ".gif":
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            raw = image.info.get("comment")
        return json.loads(raw) if raw else None
    if suffix in (".mp4", ".webm"):
        import imageio_ffmpeg

        fd, path = tempfile.mkstemp(suffix=suffix)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        try:
            exe = imageio_ffmpeg.get_ffmpeg_exe()
            out = subprocess.run(
                [exe, "-v", "error", "-i", path, "-f", "ffmetadata", "-"], capture_output=True, text=True, check=True
            ).stdout
        finally:
            os.unlink(path)
        for line in out.splitlines():
            if line.lower().startswith("comment="):
                return json.loads(line.split("=", 1)[1].replace("\\=", "=").replace("\\;", ";").replace("\\#", "#"))
        return None
    return None
