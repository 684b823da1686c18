"""Build a backend from its short name and plain options (what configs and the CLI hold)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidParameterError
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


def create_backend(kind: str, model: str | None = None, options: Mapping[str, Any] | None = None) -> VisionBackend:
    """Instantiate backend ``kind`` ("diffusers", "sdcpp", "openai") for ``model``.

    ``options`` are the backend config's fields; an unknown one raises ``InvalidParameterError``
    naming ``backend.<field>`` and listing the valid fields.
    """
    if kind not in BACKENDS:
        raise InvalidParameterError("backend", f"unknown backend {kind!r}; valid backends are {sorted(BACKENDS)}")
    module_name, config_name, backend_name, model_field = BACKENDS[kind]
    module = importlib.import_module(f".{module_name}", __package__)
    config_cls = getattr(module, config_name)
    valid = {f.name for f in dataclasses.fields(config_cls)}
    values = dict(options or {})
    unknown = sorted(set(values) - valid)
    if unknown:
        raise InvalidParameterError(
            f"backend.{unknown[0]}", f"not an option of the {kind} backend; valid options are {sorted(valid)}"
        )
    if model is not None:
        values[model_field] = model
    return getattr(module, backend_name)(config_cls(**values))
