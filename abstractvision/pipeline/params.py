"""Normalising generation parameters from configs, and refusing those a task would ignore.

Normalising values here (``5`` -> ``5.0`` for a guidance scale) is what makes ``guidance_scale=5`` and
``guidance_scale=5.0`` the same job, with the same id. Which task uses which parameter is the task
table's (``abstractvision.tasks``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidParameterError
from ..tasks import BOOL_PARAMS, FILE_PARAMS, FLOAT_PARAMS, INT_PARAMS, PARAMS, STR_PARAMS, get_task
from ..views import parse_views


def normalize(name: str, value: Any) -> Any:
    """``value`` in the canonical type of parameter ``name``; raises naming the key if it cannot be."""
    if value is None:
        return None
    if name in INT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise InvalidParameterError(name, f"must be an integer, got {value!r}")
        return int(value)
    if name in FLOAT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParameterError(name, f"must be a number, got {value!r}")
        return float(value)
    if name in BOOL_PARAMS:
        if not isinstance(value, bool):
            raise InvalidParameterError(name, f"must be true or false, got {value!r}")
        return value
    if name in STR_PARAMS or name in FILE_PARAMS:
        if not isinstance(value, str):
            raise InvalidParameterError(name, f"must be a string, got {value!r} (quote it on the command line)")
        return value
    if name == "angles":
        parse_views(value, name)  # names or {azimuth, elevation}; bad ones fail here, naming the view
        return [dict(a) if isinstance(a, Mapping) else a for a in value]
    if name == "extra":
        if not isinstance(value, Mapping):
            raise InvalidParameterError(name, f"must be a mapping of backend-specific options, got {value!r}")
        return dict(value)
    raise InvalidParameterError(name, f"unknown parameter; valid parameters are {list(PARAMS)}")


def check_used_by(task: str, params: Mapping[str, Any]) -> None:
    """Refuse a parameter set for a task that would ignore it (no silent drops)."""
    used = set(get_task(task).params())
    for name, value in params.items():
        if value is not None and name not in used:
            raise InvalidParameterError(
                name, f"is not used by task {task!r} (it uses {sorted(used)}); unset it or pick another task"
            )
