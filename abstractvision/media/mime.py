"""Recognise media files by their first bytes, not by what a server claims they are."""

from __future__ import annotations

IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
VIDEO_MIME_TYPES = ("video/mp4", "video/webm")

EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
}


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of ``data`` (png, jpeg, webp, gif, mp4, webm), or ``None`` if it is none of them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


# What a video answer may be: real video containers, or animated GIF / WebP.
VIDEO_ANSWER_MIME_TYPES = (*VIDEO_MIME_TYPES, "image/gif", "image/webp")
