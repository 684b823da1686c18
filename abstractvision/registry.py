"""What each known model can do: tasks, default parameters, size rules, backends that run it.

The source of truth is the Hydra model group (``conf/model/*.yaml``), so the registry a Python user
sees and the configs a command line composes can never disagree. Users add models by dropping a
YAML file into a folder passed as ``extra_dirs`` (``./conf`` or a ``--config-dir`` on the command line).
Model files are data, not defaults: they stay YAML, checked against ``model_schema`` (``ModelSpec``'s
fields, ``param_defaults`` limited to ``GENERATION_DEFAULT_KEYS``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from .config_dirs import search_path
from .errors import InvalidParameterError, ModelNotFoundError
from .schema import schema_of, validate, yaml_error
from .tasks import INT_PARAMS, TASKS

_SIZE = re.compile(r"[1-9][0-9]*x[1-9][0-9]*")
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
    #: The only output sizes the model makes, as "WIDTHxHEIGHT" (CogVideoX 5B I2V's learned positional
    #: embeddings fix it at 720x480); empty: any size that is a multiple of ``size_multiple``.
    sizes: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, str] = field(default_factory=dict)
    #: multi_view_image: the prompt of each view (``views.PROMPT_TEMPLATE`` when empty); a model trained for
    #: views (a multi-angle edit LoRA) sets the phrasing it was trained on.
    view_prompt: str = ""
    #: image_to_image and multi_view_image: a diffusers class that edits a reference image (an instruction edit
    #: model such as ``QwenImageEditPlusPipeline``), loaded from the model's folder instead of deriving
    #: image-to-image from its text-to-image pipeline. Views then need a reference image.
    edit_pipeline: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str) -> ModelSpec:
        """The spec described by a model config, checked against ``model_schema``; errors name ``origin``."""
        # Hydra reserves a top-level `defaults` key for its defaults list, so model YAMLs that Hydra composes
        # spell it `param_defaults`; `defaults` stays accepted for plain registry folders.
        defaults_key = "defaults" if "defaults" in data and "param_defaults" not in data else "param_defaults"
        values = validate(model_schema(defaults_key), data, "model", origin)
        for required in ("name", "source"):
            if not values[required]:
                raise InvalidParameterError(f"model.{required}", f"missing in {origin}")
        bad_tasks = [t for t in values["tasks"] if t not in TASKS]
        if bad_tasks:
            raise InvalidParameterError("model.tasks", f"{bad_tasks} in {origin}; valid tasks are {list(TASKS)}")
        bad_sizes = [size for size in values["sizes"] if not _SIZE.fullmatch(str(size))]
        if bad_sizes:
            raise InvalidParameterError(
                "model.sizes", f"{bad_sizes} in {origin}; write each as WIDTHxHEIGHT, e.g. 720x480"
            )
        defaults = {k: v for k, v in values.pop(defaults_key).items() if v is not None}
        tasks, backends, sizes = (tuple(values.pop(key)) for key in ("tasks", "backends", "sizes"))
        return cls(**values, tasks=tasks, backends=backends, sizes=sizes, defaults=defaults)

    @classmethod
    def for_source(cls, source: str) -> ModelSpec:
        """A model no config describes (a folder, a file, a hub id): any task, any backend, no defaults."""
        return cls(name=source, source=source, tasks=TASKS)

    def supports(self, task: str) -> bool:
        return task in self.tasks

    def runs_on(self, backend: str) -> bool:
        """Whether ``backend`` can run this model (a spec listing no backends runs on any)."""
        return not self.backends or backend in self.backends


@cache
def model_schema(defaults_key: str = "param_defaults") -> type:
    """The schema of a model config: ``ModelSpec``'s fields, its ``defaults`` spelled ``defaults_key``."""
    params = [(k, (int if k in INT_PARAMS else float) | None, None) for k in GENERATION_DEFAULT_KEYS]
    param_defaults = dataclasses.make_dataclass("ParamDefaults", params)
    extra = [(defaults_key, param_defaults, field(default_factory=param_defaults))]
    return schema_of(ModelSpec, exclude=("defaults",), extra=extra, name="ModelSchema")


class ModelRegistry:
    """Model specs by name, read from ``model/*.yaml`` in the user's and the package's config folders.

    ``extra_dirs`` come first, in the order given (``config_dirs.search_path``): the first folder that
    defines a model name wins.
    """

    def __init__(self, extra_dirs: Iterable[str | Path] = ()) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for config_dir in reversed(search_path([Path(d) for d in extra_dirs])):  # lowest first: later ones win
            for path in sorted((config_dir / "model").glob("*.yaml")):
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as exc:
                    raise yaml_error(exc, path) from None
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
