"""Stored videos read back as pictures: every frame (``verify``, ``RunItem.frames``) or the middle one (grid
cells and gallery thumbnails, where a still must stand for the clip and the first frame is often the least
typical).

MP4 and WebM decode through imageio's ffmpeg reader (the ``video`` extra); GIF and animated WebP through
Pillow alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageSequence

from ..errors import BackendUnavailableError

FFMPEG_SUFFIXES = (".mp4", ".webm")


def iter_frames(source: Path | bytes, suffix: str) -> Iterator[Image.Image]:
    """The RGB frames of the video in ``source`` (a file, or its bytes) whose container is ``suffix``."""
    if suffix.lower() in FFMPEG_SUFFIXES:
        iio = _imageio()
        for frame in iio.imiter(source if isinstance(source, bytes) else str(source), extension=suffix.lower()):
            yield Image.fromarray(frame)
        return
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as video:
        for frame in ImageSequence.Iterator(video):
            yield frame.convert("RGB")


def middle_frame(path: Path) -> Image.Image:
    """Frame ``n // 2`` of the ``n`` frames of the video at ``path``, decoding only up to it."""
    if path.suffix.lower() in FFMPEG_SUFFIXES:
        import imageio

        _imageio()
        reader = imageio.get_reader(path, "ffmpeg")
        try:
            return Image.fromarray(reader.get_data(reader.count_frames() // 2))
        finally:
            reader.close()
    with Image.open(path) as video:
        video.seek(getattr(video, "n_frames", 1) // 2)
        return video.convert("RGB")


def _imageio() -> Any:
    """imageio's v3 API, or an error naming the extra."""
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg  # noqa: F401 - the reader needs its ffmpeg binary
    except ImportError:
        raise BackendUnavailableError(
            "reading MP4/WebM frames needs imageio and imageio-ffmpeg: pip install 'abstractvision[video]'"
        ) from None
    return iio
