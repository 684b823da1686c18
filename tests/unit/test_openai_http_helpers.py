"""The small pieces under the HTTP backend: MIME sniffing, Retry-After, URL redaction, error bodies, masks."""

from __future__ import annotations

import email.utils
import io
import time

import pytest
import requests
from PIL import Image

from abstractvision.backends.openai_compatible.transport import (
    RetryPolicy,
    parse_retry_after,
    redact_url,
    server_message,
)
from abstractvision.media.masks import to_white_mask, white_to_alpha
from abstractvision.media.mime import sniff_mime


def encoded(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")]
)
def test_sniffs_real_image_files(fmt, mime):
    assert sniff_mime(encoded(Image.new("RGB", (8, 8), "red"), fmt)) == mime


def test_sniffs_video_containers_and_refuses_text():
    assert sniff_mime(b"\x00\x00\x00\x20ftypisom" + b"\x00" * 16) == "video/mp4"
    assert sniff_mime(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81") == "video/webm"
    assert sniff_mime(b"<html>") is None and sniff_mime(b"") is None


def test_retry_after_as_seconds_or_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < parse_retry_after(date) <= 30


def test_backoff_doubles_and_is_capped_and_retry_after_wins():
    policy = RetryPolicy(max_retries=5, backoff_s=0.5, max_backoff_s=3)
    assert [policy.delay(i, None) for i in range(4)] == [0.5, 1.0, 2.0, 3]
    assert policy.delay(0, 2.5) == 2.5 and policy.delay(0, 100) == 3


def test_redact_url_drops_user_info_and_query():
    assert redact_url("https://user:pw@host:8443/v1/x?sig=secret#f") == "https://host:8443/v1/x"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": {"message": "bad size", "type": "invalid_request_error"}}', "bad size"),  # OpenAI
        (b'{"error": "invalid n"}', "invalid n"),  # sd-server 400
        (b'{"error": "server_error", "message": "oom"}', "oom"),  # sd-server 500
        (b'{"detail": "Not Found"}', "Not Found"),  # FastAPI
        (b"upstream exploded", "upstream exploded"),
        (b"", "(empty body)"),
    ],
)
def test_server_message_reads_every_error_shape(body, message):
    response = requests.Response()
    response._content = body
    response.encoding = "utf-8"
    assert server_message(response) == message


def test_mask_conventions_round_trip():
    mask = Image.new("L", (16, 16), 0)
    mask.paste(255, (4, 4, 12, 12))
    as_alpha = Image.open(io.BytesIO(white_to_alpha(encoded(mask, "PNG"))))
    assert as_alpha.mode == "RGBA"
    assert as_alpha.getpixel((8, 8))[3] == 0 and as_alpha.getpixel((0, 0))[3] == 255  # transparent = edit
    back = Image.open(io.BytesIO(to_white_mask(white_to_alpha(encoded(mask, "PNG")))))
    assert back.tobytes() == mask.tobytes()
    opaque = Image.open(io.BytesIO(to_white_mask(encoded(mask.convert("RGB"), "PNG"))))
    assert opaque.tobytes() == mask.tobytes()  # no transparency: read as white = repaint
