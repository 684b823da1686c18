"""Request fields of the OpenAI routes, typed and checked, from JSON bodies and multipart forms alike.

The standard OpenAI fields plus the extensions OpenAI's API lacks (``seed``, ``steps`` or vLLM-Omni's
``num_inference_steps``, ``guidance_scale``, ``negative_prompt``, ``strength``, ``num_frames``, ``fps``, and
``scheduler``, which reaches the backend as ``request.extra["scheduler"]`` as it does from a run config).
The video routes also take ``output_format`` (a ``media.video`` format) and ``frame_pngs``. An unknown
field is refused (400 naming it) rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import invalid

MAX_N = 10
RESPONSE_FORMATS = ("b64_json", "url")
IMAGE_FORMATS = ("png",)
SIZE = re.compile(r"^([1-9][0-9]*)x([1-9][0-9]*)$")

# field -> type; "user" is accepted and ignored, as OpenAI's own API does with it.
BASE_FIELDS: dict[str, type] = {
    "prompt": str,
    "model": str,
    "size": str,
    "response_format": str,
    "output_format": str,
    "user": str,
    "negative_prompt": str,
    "seed": int,
    "steps": int,
    "num_inference_steps": int,
    "guidance_scale": float,
    "scheduler": str,
}
IMAGE_FIELDS = {**BASE_FIELDS, "n": int}
EDIT_FIELDS = {**IMAGE_FIELDS, "strength": float}
VIDEO_FIELDS = {**BASE_FIELDS, "num_frames": int, "fps": int, "frame_pngs": bool}
VIEW_FIELDS = {**BASE_FIELDS, "angles": list}


@dataclass(frozen=True)
class Parsed:
    """What a route needs from a request: generation parameters and how to answer."""

    params: dict[str, Any]
    extra: dict[str, Any]
    n: int
    response_format: str
    model: str | None
    output_format: str | None = None


def parse_fields(
    raw: Mapping[str, Any],
    spec: Mapping[str, type],
    *,
    from_form: bool,
    output_formats: Sequence[str] = IMAGE_FORMATS,
) -> Parsed:
    """Type-check ``raw`` against ``spec``; form values (strings) are converted, JSON values must match.

    ``output_format``, when sent, must be one of the route's ``output_formats`` (the video formats for video).
    """
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise invalid(unknown[0], f"unknown parameter; this server accepts {sorted(spec)}")
    values = {name: _typed(name, value, spec[name], from_form) for name, value in raw.items() if value is not None}
    if "steps" in values and "num_inference_steps" in values:
        raise invalid("num_inference_steps", "is another name for `steps`; send only one of them")
    if "num_inference_steps" in values:
        values["steps"] = values.pop("num_inference_steps")
    output_format = values.pop("output_format", None)
    if output_format is not None and output_format not in output_formats:
        raise invalid("output_format", f"this route writes {' or '.join(output_formats)}, got {output_format!r}")
    values.pop("user", None)
    n = values.pop("n", 1)
    if not 1 <= n <= MAX_N:
        raise invalid("n", f"must be between 1 and {MAX_N}, got {n}")
    response_format = values.pop("response_format", "b64_json")
    if response_format not in RESPONSE_FORMATS:
        raise invalid("response_format", f"must be one of {list(RESPONSE_FORMATS)}, got {response_format!r}")
    size = values.pop("size", None)
    if size is not None and size != "auto":
        match = SIZE.match(size)
        if not match:
            raise invalid("size", f"must look like 512x512 (WIDTHxHEIGHT), got {size!r}")
        values["width"], values["height"] = int(match.group(1)), int(match.group(2))
    model = values.pop("model", None)
    extra = {"scheduler": values.pop("scheduler")} if "scheduler" in values else {}
    return Parsed(values, extra, n, response_format, model, output_format)


def _typed(name: str, value: Any, kind: type, from_form: bool) -> Any:
    if kind is bool:
        return _boolean(name, value, from_form)
    if from_form and isinstance(value, str) and kind is not str:
        try:
            return kind(value)
        except ValueError:
            raise invalid(name, f"must be {'an integer' if kind is int else 'a number'}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        expected = {str: "a string", int: "an integer", float: "a number", list: "a list of strings"}[kind]
        raise invalid(name, f"must be {expected}, got {value!r}")
    return value


def _boolean(name: str, value: Any, from_form: bool) -> bool:
    """JSON ``true``/``false``; in a form, the strings ``true``/``false``."""
    if isinstance(value, bool):
        return value
    if from_form and value in ("true", "false"):
        return value == "true"
    raise invalid(name, f"must be true or false, got {value!r}")
