"""Every backend config field is classified: does it decide the output, or only place and pace the work?

* ``identity`` fields change the pixels (scheduler, LoRAs, dtype, weight type, safety checker, component
  files, ...): their *configured* values go into each job's id, so changing one makes new jobs.
* ``placement`` fields only say where and how fast the work runs (device, offload, slicing, threads,
  timeouts, retries, keys, cache paths): they stay out of the id, so the same config gives the same
  ids on any machine.
* ``model`` is the one field that names the model for library use; runs take the model from the model
  group, whose source, components and defaults are part of the id.

A unit test fails when a field of any backend config is in none of these roles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

IDENTITY = "identity"
PLACEMENT = "placement"
MODEL = "model"
ROLES = (IDENTITY, PLACEMENT, MODEL)


def identity(default: Any = None, **kwargs: Any) -> Any:
    """A config field that decides the output (part of every job id)."""
    return _field(IDENTITY, default, **kwargs)


def placement(default: Any = None, **kwargs: Any) -> Any:
    """A config field that only places or paces the work (never part of a job id)."""
    return _field(PLACEMENT, default, **kwargs)


def model_field(default: Any = None, **kwargs: Any) -> Any:
    """The field naming the model when a backend is built without a model spec."""
    return _field(MODEL, default, **kwargs)


def _field(role: str, default: Any, *, default_factory: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
    metadata = {"role": role}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def role_of(config_cls: type, name: str) -> str | None:
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    return fields[name].metadata.get("role") if name in fields else None


def names_with_role(config_cls: type, role: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(config_cls) if f.metadata.get("role") == role)


def unclassified(config_cls: type) -> list[str]:
    """Fields of ``config_cls`` with no role (the classification test keeps this empty)."""
    return [f.name for f in dataclasses.fields(config_cls) if f.metadata.get("role") not in ROLES]


def split_options(config_cls: type, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(identity options, placement options)`` of plain ``options`` (the model field stays out of both)."""
    identity_options, placement_options = {}, {}
    for name, value in options.items():
        role = role_of(config_cls, name)
        if role == IDENTITY:
            identity_options[name] = value
        elif role == PLACEMENT:
            placement_options[name] = value
    return identity_options, placement_options


def configured_identity(config: Any) -> dict[str, Any]:
    """The identity fields of ``config`` set to something other than their default, as configured.

    Defaults stay out, so ``dtype: auto`` hashes as "not set" on every machine, and a new identity
    option added later leaves existing job ids unchanged.
    """
    values = {}
    for f in dataclasses.fields(config):
        if f.metadata.get("role") != IDENTITY:
            continue
        value = getattr(config, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if value != default:
            values[f.name] = value
    return values
