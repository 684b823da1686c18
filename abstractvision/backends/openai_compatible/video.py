"""The two video protocols of OpenAI-shaped servers.

Synchronous: the POST answers with the video (raw bytes, or JSON ``data[0]`` with ``b64_json``/``url``).
Asynchronous (OpenAI's ``/v1/videos``): the POST answers with a job ``{"id", "status"}``; the client polls
``GET {path}/{id}`` until ``completed`` (or ``failed``) and downloads ``GET {path}/{id}/content``.
Which one a server speaks is read from its answer, so one config works for both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ...errors import BackendResponseError, BackendTimeoutError, GenerationError
from ...media.mime import VIDEO_ANSWER_MIME_TYPES
from .responses import data_items, item_bytes, media_type_of, response_json
from .transport import HttpTransport

DONE = ("completed", "succeeded")
FAILED = ("failed", "cancelled", "canceled", "error", "expired")


def request_video(
    transport: HttpTransport,
    path: str,
    *,
    poll_interval_s: float,
    timeout_s: float,
    context: Mapping[str, Any],
    **send: Any,
) -> tuple[bytes, str, dict[str, Any]]:
    """POST ``send`` (``json=`` or ``data=``/``files=``) to ``path``; return (bytes, MIME type, protocol info)."""
    started = time.monotonic()
    response = transport.request("POST", path, **send)
    if "json" not in response.headers.get("Content-Type", ""):
        data = response.content
        return data, media_type_of(data, VIDEO_ANSWER_MIME_TYPES, context), {"protocol": "sync", "answer": "bytes"}
    body = response_json(response, context)
    if "data" in body:
        data, answer = item_bytes(transport, data_items(body, context)[0], context)
        return data, media_type_of(data, VIDEO_ANSWER_MIME_TYPES, context), {"protocol": "sync", "answer": answer}
    if not body.get("id") or "status" not in body:
        raise BackendResponseError(
            f"POST {path}: the answer is neither a video (`data`) nor a job (`id` + `status`); keys: {sorted(body)}",
            **context,
        )
    job_path = f"{path.rstrip('/')}/{quote(str(body['id']), safe='')}"
    body = _wait(transport, job_path, body, started + timeout_s, poll_interval_s, timeout_s, context)
    data = transport.request("GET", f"{job_path}/content").content
    info = {"protocol": "async", "job_id": str(body["id"]), "status": body["status"]}
    return data, media_type_of(data, VIDEO_ANSWER_MIME_TYPES, context), info


def _wait(
    transport: HttpTransport,
    job_path: str,
    body: dict[str, Any],
    deadline: float,
    poll_interval_s: float,
    timeout_s: float,
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """Poll the job until it is done; raise when it fails or the deadline passes."""
    while body.get("status") not in DONE:
        status = body.get("status")
        if status in FAILED:
            error = body.get("error")
            reason = error.get("message") if isinstance(error, Mapping) else error
            raise GenerationError(f"video job {body.get('id')!r} {status}: {reason or 'no reason given'}", **context)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BackendTimeoutError(
                f"video job {body.get('id')!r} still {status!r} after {timeout_s} s; "
                "raise backend.video_timeout_s if the server is slow",
                **context,
            )
        time.sleep(min(poll_interval_s, remaining))
        body = response_json(transport.request("GET", job_path), context)
    return body
