"""Build a backend from its short name and plain options (what configs and the CLI hold)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from ..errors import InvalidParameterError
from ..schema import schema_of, unknown_key
from .base_backend import VisionBackend

# short name -> (module, config class, backend class, config field that names the model)
BACKENDS: dict[str, tuple[str, str, str, str]] = {
    "diffusers": (
        "huggingface_diffusers",
        "HuggingFaceDiffusersBackendConfig",
        "HuggingFaceDiffusersVisionBackend",
        "model_id",
    ),
    "sdcpp": ("stable_diffusion_cpp", "StableDiffusionCppBackendConfig", "StableDiffusionCppVisionBackend", "model"),
    "openai": ("openai_compatible", "OpenAICompatibleBackendConfig", "OpenAICompatibleVisionBackend", "model_id"),
}


def config_class(kind: str) -> type:
    """The config dataclass of backend ``kind`` (its module is light: torch and friends load later)."""
    if kind not in BACKENDS:
        raise InvalidParameterError("backend", f"unknown backend {kind!r}; valid backends are {sorted(BACKENDS)}")
    module_name, config_name, _, _ = BACKENDS[kind]
    return getattr(importlib.import_module(f".{module_name}", __package__), config_name)


@cache
def backend_schema(kind: str) -> type:
    """The ``backend`` group option ``kind``: ``name: kind`` and the config class's fields and defaults,
    less the model field (the model group names the model)."""
    extra = [("name", str, dataclasses.field(default=kind))]
    return schema_of(config_class(kind), exclude=(BACKENDS[kind][3],), extra=extra, name=f"{kind}_backend")


def create_backend(kind: str, model: str | None = None, options: Mapping[str, Any] | None = None) -> VisionBackend:
    """Instantiate backend ``kind`` ("diffusers", "sdcpp", "openai") for ``model``.

    ``options`` are the backend config's fields; an unknown one raises ``InvalidParameterError``
    naming ``backend.<field>`` and listing the valid fields.
    """
    config_cls = config_class(kind)
    module_name, _, backend_name, model_field = BACKENDS[kind]
    valid = {f.name for f in dataclasses.fields(config_cls)}
    values = dict(options or {})
    unknown = sorted(set(values) - valid)
    if unknown:
        raise unknown_key(f"backend.{unknown[0]}", valid, f"not an option of the {kind} backend", "options")
    if model is not None:
        values[model_field] = model
    backend_cls = getattr(importlib.import_module(f".{module_name}", __package__), backend_name)
    return backend_cls(config_cls(**values))
