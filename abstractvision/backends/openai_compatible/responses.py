"""Reading what an OpenAI-shaped server answered: JSON bodies, ``data`` items, and media bytes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import requests

from ...errors import BackendResponseError
from ...media.mime import sniff_mime
from .transport import HttpTransport, redact_url


def response_json(response: requests.Response, context: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object in ``response``, or a ``BackendResponseError`` saying what came instead."""
    what = f"{response.request.method} {redact_url(response.url)}"
    content_type = response.headers.get("Content-Type", "(none)")
    if "json" not in content_type:
        raise BackendResponseError(
            f"{what}: expected a JSON answer, got Content-Type {content_type!r} ({response.content[:80]!r}); "
            "check that backend.base_url points to the /v1 root of an OpenAI-compatible server",
            status_code=response.status_code,
            **context,
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise BackendResponseError(
            f"{what}: the answer is not valid JSON ({exc}): {response.text[:120]!r}",
            status_code=response.status_code,
            **context,
        ) from exc
    if not isinstance(body, dict):
        raise BackendResponseError(
            f"{what}: expected a JSON object, got {type(body).__name__}", status_code=response.status_code, **context
        )
    return body


def data_items(body: Mapping[str, Any], context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``data`` list of an images-style answer (each item has ``b64_json`` or ``url``)."""
    items = body.get("data")
    if not isinstance(items, list) or not items or not all(isinstance(i, Mapping) for i in items):
        raise BackendResponseError(
            f"the answer has no `data` list of images (keys: {sorted(body)}); is this an OpenAI-compatible server?",
            **context,
        )
    return items


def item_bytes(transport: HttpTransport, item: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[bytes, str]:
    """The media bytes of one ``data`` item and how they came (``b64_json`` or ``url``)."""
    if item.get("b64_json"):
        try:
            return base64.b64decode(item["b64_json"], validate=True), "b64_json"
        except (binascii.Error, ValueError, TypeError) as exc:
            raise BackendResponseError(f"`b64_json` in the answer is not valid base64 ({exc})", **context) from exc
    if item.get("url"):
        return transport.download(str(item["url"])), "url"
    raise BackendResponseError(f"a `data` item has neither `b64_json` nor `url` (keys: {sorted(item)})", **context)


def media_type_of(data: bytes, allowed: tuple[str, ...], context: Mapping[str, Any]) -> str:
    """The sniffed MIME type of ``data``, which must be one of ``allowed``."""
    mime = sniff_mime(data)
    if mime not in allowed:
        raise BackendResponseError(
            f"the server sent {len(data)} bytes that are not one of {list(allowed)} (sniffed {mime}): {data[:40]!r}",
            **context,
        )
    return mime
