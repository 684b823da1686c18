"""What each known model can do: tasks, default parameters, size rules, backends that run it.

The source of truth is the Hydra model group (``conf/model/*.yaml``), so the registry a Python user
sees and the configs a command line composes can never disagree. Users add models by dropping a
YAML file into a folder passed as ``extra_dirs`` (or their Hydra ``--config-dir``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidParameterError, ModelNotFoundError
from .tasks import TASKS

CONFIG_DIR = Path(__file__).parent / "conf"
GENERATION_DEFAULT_KEYS = ("width", "height", "steps", "guidance_scale", "strength", "num_frames", "fps")


@dataclass(frozen=True)
class ModelSpec:
    """A known model: where its weights come from and what it can do."""

    name: str
    source: str
    family: str = "unknown"
    description: str = ""
    tasks: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    size_multiple: int = 8
    defaults: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str) -> ModelSpec:
        known = set(cls.__dataclass_fields__)
        defaults_key = "param_defaults" if "param_defaults" in data else "defaults"
        if defaults_key == "param_defaults":
            # Hydra reserves a top-level `defaults` key for its defaults list, so model YAMLs that Hydra
            # composes spell it `param_defaults`; `defaults` stays accepted for plain registry folders.
            data = {("defaults" if k == "param_defaults" else k): v for k, v in data.items()}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameterError(
                f"model.{unknown[0]}", f"unknown key in {origin}; valid keys are {sorted(known)}"
            )
        for required in ("name", "source"):
            if not data.get(required):
                raise InvalidParameterError(f"model.{required}", f"missing in {origin}")
        tasks = tuple(data.get("tasks") or ())
        bad_tasks = [t for t in tasks if t not in TASKS]
        if bad_tasks:
            raise InvalidParameterError("model.tasks", f"{bad_tasks} in {origin}; valid tasks are {list(TASKS)}")
        defaults = dict(data.get("defaults") or {})
        bad_defaults = sorted(set(defaults) - set(GENERATION_DEFAULT_KEYS))
        if bad_defaults:
            raise InvalidParameterError(
                f"model.{defaults_key}.{bad_defaults[0]}",
                f"unknown in {origin}; valid keys are {list(GENERATION_DEFAULT_KEYS)}",
            )
        return cls(
            name=str(data["name"]),
            source=str(data["source"]),
            family=str(data.get("family", "unknown")),
            description=str(data.get("description", "")),
            tasks=tasks,
            backends=tuple(data.get("backends") or ()),
            size_multiple=int(data.get("size_multiple", 8)),
            defaults=defaults,
            components={str(k): str(v) for k, v in (data.get("components") or {}).items()},
        )

    @classmethod
    def for_source(cls, source: str) -> ModelSpec:
        """A model no config describes (a folder, a file, a hub id): any task, any backend, no defaults."""
        return cls(name=source, source=source, tasks=TASKS)

    def supports(self, task: str) -> bool:
        return task in self.tasks

    def runs_on(self, backend: str) -> bool:
        """Whether ``backend`` can run this model (a spec listing no backends runs on any)."""
        return not self.backends or backend in self.backends


class ModelRegistry:
    """Model specs by name, read from ``model/*.yaml`` in the package's and the user's config folders."""

    def __init__(self, extra_dirs: Iterable[str | Path] = ()) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for config_dir in (CONFIG_DIR, *map(Path, extra_dirs)):
            for path in sorted((config_dir / "model").glob("*.yaml")):
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                spec = ModelSpec.from_mapping(data, origin=str(path))
                self._specs[spec.name] = spec

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ModelNotFoundError(
                f"unknown model {name!r}; known models are {self.names()} "
                "(or pass a Hugging Face id / local folder to the backend directly)",
                model=name,
            ) from None

    def find(self, name_or_source: str) -> ModelSpec | None:
        """The spec named ``name_or_source``, or whose source it is; ``None`` for an unlisted model."""
        if name_or_source in self._specs:
            return self._specs[name_or_source]
        return next((s for s in self._specs.values() if s.source == name_or_source), None)


def resolve_model(name_or_source: str, registry: ModelRegistry | None = None) -> ModelSpec:
    """The spec of a registry name (or of a source a spec has), else an ad-hoc spec for that source.

    Called once, where a model is named (the library's backend constructors, the CLI); everything
    after that is handed the spec itself.
    """
    return (registry or default_registry()).find(name_or_source) or ModelSpec.for_source(name_or_source)


@lru_cache(maxsize=1)
def default_registry() -> ModelRegistry:
    """The registry of the models shipped with the package (cached; safe to drop)."""
    return ModelRegistry()
