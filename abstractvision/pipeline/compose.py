"""From command-line overrides to a typed ``RunConfig``: the only module that touches Hydra's configs.

Overrides are split three ways:

* config-group choices (``model=a,b``, ``+experiment=x``, ``task=glob(*image*)``): Hydra composes the
  config once per combination of them;
* generation parameters (``seed=range(0,4)``, ``prompt="a fox"``) and ``sweep.*`` keys: they become sweep
  axes on plain data, replacing the sweep config's axis of the same name, and are never composed;
* everything else (``run.retries=3``, ``backend.device=cpu``): passed to every compose as is.

Planning a million jobs therefore composes a handful of times, never a million.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..backends.factory import backend_schema
from ..config_dirs import search_path
from ..errors import InvalidParameterError
from ..registry import ModelSpec, model_schema
from ..schema import config_error, schema_keys, validate, yaml_error
from .config import Combination, RunConfig, RunSettings, SweepSpec
from .config_store import ROOT_CONFIG, register, stored_options
from .params import PARAMS
from .sweep import _parser, sweep_values

GROUPS = ("backend", "model", "task", "sweep", "run", "experiment")
SWEEP_SETTINGS = ("file", "sample", "sample_seed")
"""Sweep keys that are settings, not axes."""
_UNSWEEPABLE_GROUPS = ("run",)


def group_options(group: str, config_dirs: Sequence[Path] = ()) -> list[str]:
    """The options of config group ``group``: YAML files in the config folders and structured configs."""
    files = {p.stem for d in search_path([Path(d) for d in config_dirs]) for p in (d / group).glob("*.yaml")}
    return sorted(files | stored_options(group))


def load_run_config(overrides: Sequence[str], config_dirs: Sequence[str | Path] = ()) -> RunConfig:
    """Compose the run described by ``overrides`` (Hydra syntax) into a ``RunConfig``.

    ``config_dirs`` are searched first, in the order given, then the package's defaults
    (``config_dirs.search_path``; the CLI passes ``./conf`` and its ``--config-dir`` folders).
    """
    dirs = tuple(dict.fromkeys(_config_dir(d) for d in config_dirs))
    group_axes, passthrough, axes = _split(overrides, dirs)
    combinations = []
    for choice in itertools.product(*(values for _, _, values in group_axes)):
        group_overrides = [f"{prefix}{key}={value}" for (prefix, key, _), value in zip(group_axes, choice, strict=True)]
        config = compose_config([*passthrough, *group_overrides], dirs)
        choices = {key: str(value) for (_, key, _), value in zip(group_axes, choice, strict=True)}
        combinations.append(_combination(config, choices, axes))
    run = RunSettings.from_mapping(combinations[0].config["run"])
    return RunConfig(tuple(combinations), run, dirs)


def compose_config(overrides: Sequence[str], config_dirs: Sequence[Path] = ()) -> dict[str, Any]:
    """One Hydra compose of the root config, as plain data (interpolations resolved)."""
    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    # Hydra searches its primary folder first, then hydra.searchpath in order: the search order's first
    # folder is the primary one, and the root config comes from the ConfigStore (see config_store).
    register()
    primary, *rest = search_path(config_dirs)
    search = [f"hydra.searchpath=[{','.join(_quoted(f'file://{d}') for d in rest)}]"] if rest else []
    try:
        with initialize_config_dir(config_dir=str(primary), version_base=None):
            cfg = compose(ROOT_CONFIG, overrides=[*overrides, *search])
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except (HydraException, OmegaConfBaseException) as exc:
        raise _composition_error(exc) from None
    except yaml.YAMLError as exc:  # a config file that does not parse: Hydra lets the parser's error through
        raise yaml_error(exc) from None
    except ValueError as exc:  # Hydra checks a file's `defaults:` with a plain ValueError
        found = re.match(r"Invalid defaults list in '([^/']+)/([^']+)'", str(exc))
        if not found:
            raise
        group, name = found.groups()
        hint = "a model's default parameters go under `param_defaults:`" if group == "model" else "e.g. [diffusers]"
        raise InvalidParameterError(
            f"{group}.defaults", f"in {group}={name}, `defaults:` is Hydra's list of options to start from; {hint}"
        ) from None


def _quoted(text: str) -> str:
    """``text`` as a quoted value of Hydra's override grammar (paths may hold spaces and commas)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _split(
    overrides: Sequence[str], config_dirs: Sequence[Path]
) -> tuple[list[tuple[str, str, list[Any]]], list[str], dict[str, str]]:
    """``(group axes, passthrough overrides, parameter axes)``; parameter axes map a sweep slot
    (``grid.seed``, ``zip.prompt``, ``file``) to the override's raw value text."""
    group_axes: list[tuple[str, str, list[Any]]] = []
    passthrough: list[str] = []
    axes: dict[str, str] = {}
    for override in _parse(overrides):
        key = override.key_or_group
        if not key:
            raise InvalidParameterError("overrides", f"{override.input_line!r} has no key; write key=value")
        text = override.input_line.split("=", 1)[1] if "=" in override.input_line else ""
        is_group = key in GROUPS or bool(group_options(key, config_dirs))
        if is_group and override.package is None and not override.is_delete():
            prefix = override.input_line.split(key, 1)[0]
            group_axes.append((prefix, key, _group_values(key, override, config_dirs)))
        elif key in PARAMS:
            axes[f"grid.{key}"] = text
        elif key.startswith("sweep."):
            axes[_sweep_slot(key)] = text
        elif override.is_sweep_override():
            raise InvalidParameterError(
                key, "only generation parameters and config groups can be swept; give one value"
            )
        else:
            passthrough.append(override.input_line)
    return group_axes, passthrough, axes


def _parse(overrides: Sequence[str]) -> list[Any]:
    from hydra.errors import HydraException

    parsed = []
    for line in overrides:
        try:
            parsed.append(_parser().parse_override(line))
        except HydraException as exc:
            key = re.split(r"[=]", line.lstrip("+~"), maxsplit=1)[0]
            first = str(exc).splitlines()[0]
            raise InvalidParameterError(
                key, f"malformed override {line!r}: {first} (quote values with spaces)"
            ) from None
    return parsed


def _group_values(key: str, override: Any, config_dirs: Sequence[Path]) -> list[Any]:
    from hydra.core.override_parser.types import Glob

    options = group_options(key, config_dirs)
    value = override.value()
    if isinstance(value, Glob):
        values = value.filter(options)
    elif override.is_sweep_override():
        values = list(sweep_values(key, value))
    else:
        values = [override.get_value_element_as_str()]
    if not values:
        raise InvalidParameterError(key, f"the sweep {override.input_line!r} selects no option; options are {options}")
    if len(values) > 1 and key in _UNSWEEPABLE_GROUPS:
        raise InvalidParameterError(key, "cannot be swept: one run has one set of run settings")
    for value in values:
        if str(value) not in options:
            raise InvalidParameterError(key, f"unknown option {value!r}; valid options are {options}")
    return values


def _sweep_slot(key: str) -> str:
    """``sweep.grid.seed``/``sweep.seed`` -> ``grid.seed``; ``sweep.zip.prompt`` -> ``zip.prompt``; ``sweep.file``."""
    parts = key.split(".")
    if len(parts) == 2 and parts[1] in SWEEP_SETTINGS:
        return parts[1]
    if len(parts) == 3 and parts[1] in ("grid", "zip") and parts[2] in PARAMS:
        return f"{parts[1]}.{parts[2]}"
    if len(parts) == 2 and parts[1] in PARAMS:
        return f"grid.{parts[1]}"
    raise InvalidParameterError(
        key,
        "unknown sweep key; use sweep.grid.<param>, sweep.zip.<param>, sweep.file, sweep.sample or "
        f"sweep.sample_seed (params: {list(PARAMS)})",
    )


def _combination(config: dict[str, Any], choices: dict[str, str], axes: dict[str, str]) -> Combination:
    sweep = config.setdefault("sweep", {})
    grid, paired = dict(sweep.get("grid") or {}), dict(sweep.get("zip") or {})
    for slot, text in axes.items():
        if slot in SWEEP_SETTINGS:
            sweep[slot] = text
            continue
        kind, name = slot.split(".", 1)
        grid.pop(name, None)
        paired.pop(name, None)
        (grid if kind == "grid" else paired)[name] = text
    sweep["grid"], sweep["zip"] = grid, paired
    unknown = sorted(set(sweep) - {"grid", "zip", *SWEEP_SETTINGS})
    if unknown:
        raise InvalidParameterError(
            f"sweep.{unknown[0]}", f"unknown sweep key; valid keys are grid, zip, {', '.join(SWEEP_SETTINGS)}"
        )
    backend = dict(config["backend"])
    name = backend.get("name")
    if not name:
        raise InvalidParameterError("backend.name", "missing; the backend config must say which backend it is")
    checked = validate(backend_schema(str(name)), backend, "backend")
    backend = {k: checked[k] for k in backend if k != "name"}
    params = {k: v for k, v in config.items() if k not in ("backend", "model", "task", "sweep", "run")}
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise InvalidParameterError(unknown[0], f"unknown parameter; valid parameters are {list(PARAMS)}")
    return Combination(
        choices=choices,
        backend=str(name),
        backend_options=backend,
        model=ModelSpec.from_mapping(config["model"], origin=f"model={choices.get('model', config['model']['name'])}"),
        task=str(config["task"]["name"]),
        params=params,
        sweep=SweepSpec.from_mapping(grid, paired, sweep),
        config=config,
    )


def _config_dir(path: str | Path) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise InvalidParameterError("--config-dir", f"{str(path)!r} is not a folder; point it at your config folder")
    return folder


def _composition_error(exc: Exception) -> InvalidParameterError:
    """Hydra's error in our words: the full key, the rule, the valid keys (from the schema where there is one)."""
    from omegaconf.errors import OmegaConfBaseException

    cause = next((e for e in (exc.__cause__, exc.__context__) if isinstance(e, OmegaConfBaseException)), exc)
    key = str(getattr(cause, "full_key", "") or "")
    if isinstance(cause, OmegaConfBaseException) and key:
        group, *path = key.split(".")
        # Model files are plain YAML (checked after composing), so their valid keys come from the schema.
        valid = schema_keys(model_schema(), path[:-1]) if group == "model" and path else None
        in_file = re.match(r"In '([^']+)'", str(exc))  # a config file's own key, not an override
        return config_error(cause, origin=in_file.group(1) if in_file else None, valid=valid)
    message = str(exc).split("\nConfig search path", 1)[0].strip()
    return InvalidParameterError("overrides", message)
