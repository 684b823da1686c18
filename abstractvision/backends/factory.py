"""Build a backend from its short name, a model spec and plain options (what configs and the CLI hold)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import InvalidParameterError
from ..registry import ModelSpec, resolve_model
from ..schema import schema_of, unknown_key
from .base_backend import VisionBackend
from .options import MODEL, names_with_role


@dataclass(frozen=True)
class BackendEntry:
    """One engine: where its classes live, and whether it runs any model (a server decides) or only its own."""

    package: str
    config_class: str
    backend_class: str
    runs_any_model: bool = False

    def classes(self) -> tuple[type, type]:
        module = importlib.import_module(f"{__package__}.{self.package}")
        return getattr(module, self.config_class), getattr(module, self.backend_class)


BACKENDS: dict[str, BackendEntry] = {
    "diffusers": BackendEntry(
        "huggingface_diffusers", "HuggingFaceDiffusersBackendConfig", "HuggingFaceDiffusersVisionBackend"
    ),
    "sdcpp": BackendEntry("stable_diffusion_cpp", "StableDiffusionCppBackendConfig", "StableDiffusionCppVisionBackend"),
    "openai": BackendEntry(
        "openai_compatible", "OpenAICompatibleBackendConfig", "OpenAICompatibleVisionBackend", runs_any_model=True
    ),
}


def backend_entry(kind: str) -> BackendEntry:
    if kind not in BACKENDS:
        raise InvalidParameterError("backend", f"unknown backend {kind!r}; valid backends are {sorted(BACKENDS)}")
    return BACKENDS[kind]


def config_class(kind: str) -> type:
    """The config dataclass of backend ``kind`` (its module is light: torch and friends load later)."""
    return backend_entry(kind).classes()[0]


@cache
def backend_schema(kind: str) -> type:
    """The ``backend`` group option ``kind``: ``name: kind`` and the config class's fields and defaults,
    less the model field (the model group names the model)."""
    config_cls = config_class(kind)
    extra = [("name", str, dataclasses.field(default=kind))]
    return schema_of(config_cls, exclude=names_with_role(config_cls, MODEL), extra=extra, name=f"{kind}_backend")


def build_config(kind: str, options: Mapping[str, Any] | None = None, model: ModelSpec | None = None) -> Any:
    """Backend ``kind``'s validated config (for ``model``, when given) from plain ``options``.

    An unknown option raises ``InvalidParameterError`` naming ``backend.<field>`` and listing the valid
    fields; so does an option naming the model, which comes from the model group instead.
    """
    config_cls = config_class(kind)
    valid = {f.name for f in dataclasses.fields(config_cls)}
    values = dict(options or {})
    unknown = sorted(set(values) - valid)
    if unknown:
        raise unknown_key(f"backend.{unknown[0]}", valid, f"not an option of the {kind} backend", "options")
    for name in names_with_role(config_cls, MODEL) if model is not None else ():
        if name in values:
            raise InvalidParameterError(
                f"backend.{name}", f"the model comes from the model group: use model=NAME instead of backend.{name}"
            )
        values[name] = model.source or None
    return config_cls(**values)


def create_backend(
    kind: str, model: ModelSpec | str | None = None, options: Mapping[str, Any] | None = None
) -> VisionBackend:
    """Instantiate backend ``kind`` ("diffusers", "sdcpp", "openai") for ``model`` (nothing loads yet).

    ``model`` is a resolved ``ModelSpec`` (runs hand it over whole), or a registry name, Hugging Face id or
    path, resolved once here; ``None`` leaves the model to the options (``backend.model_id`` and the like).
    """
    spec = resolve_model(model) if isinstance(model, str) else model
    _, backend_cls = backend_entry(kind).classes()
    return backend_cls(build_config(kind, options, spec), spec)
