"""Config schemas: dataclasses derived from the typed config classes, checked with OmegaConf.

A config class (``RunSettings``, a backend's ``*BackendConfig``, ``ModelSpec``) is the one definition of
its keys, types and defaults. ``schema_of`` turns it into a schema Hydra can compose with and OmegaConf
can check; ``validate`` checks plain data against one; ``config_error`` turns OmegaConf's errors into
``InvalidParameterError`` naming the full key (``run.retrie``), the rule, the valid keys and the closest one.
OmegaConf is imported on first use, so importing this module stays light.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from .errors import InvalidParameterError

MISSING = "???"
"""OmegaConf's marker of a required value (``omegaconf.MISSING``)."""

_PRIMITIVES = (str, int, float, bool)
_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def schema_of(
    cls: type, *, exclude: Iterable[str] = (), extra: Sequence[tuple[str, Any, Any]] = (), name: str | None = None
) -> type:
    """A mutable dataclass with the fields of dataclass ``cls`` (defaults included), typed for OmegaConf.

    ``exclude`` drops fields; ``extra`` adds ``(name, type, dataclasses.field(...))`` fields first. A field
    without a default becomes required (``???``). Only the fields are read, never changed.
    """
    hints = typing.get_type_hints(cls)
    fields: list[tuple[str, Any, Any]] = list(extra)
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        if f.default_factory is not dataclasses.MISSING:
            default = dataclasses.field(default_factory=f.default_factory)
        else:
            default = dataclasses.field(default=MISSING if f.default is dataclasses.MISSING else f.default)
        fields.append((f.name, omegaconf_type(hints[f.name]), default))
    return dataclasses.make_dataclass(name or f"{cls.__name__}Schema", fields)


def omegaconf_type(hint: Any) -> Any:
    """``hint`` as a type OmegaConf can check: a union of several types (``bool | str``) becomes ``Any``,
    tuples and sequences become lists, mappings dicts."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        inner = omegaconf_type(rest[0]) if len(rest) == 1 else Any
        return Any if inner is Any else inner | None
    if origin in (list, tuple, Sequence):
        return list[omegaconf_type(args[0]) if args else Any]
    if origin in (dict, Mapping):
        return dict[str, omegaconf_type(args[1]) if args else Any]  # type: ignore[misc]
    if hint in _PRIMITIVES or hint is Any or dataclasses.is_dataclass(hint):
        return hint
    return Any


def validate(schema: type, data: Mapping[str, Any], prefix: str, origin: str | None = None) -> dict[str, Any]:
    """``data`` merged onto ``schema``'s defaults, as plain data; errors name ``<prefix>.<key>`` and ``origin``."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(data, Mapping):
        raise InvalidParameterError(prefix, f"must be a mapping of keys, got {data!r}{_where(origin)}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), data)
    except OmegaConfBaseException as exc:
        raise config_error(exc, prefix, origin) from None
    missing = sorted(OmegaConf.missing_keys(merged))
    if missing:
        raise InvalidParameterError(f"{prefix}.{missing[0]}", f"missing{_where(origin)}")
    return OmegaConf.to_container(merged, resolve=True)  # type: ignore[return-value]


def config_error(
    exc: Exception, prefix: str = "", origin: str | None = None, valid: Iterable[str] | None = None
) -> InvalidParameterError:
    """OmegaConf's ``exc`` in our words. ``valid`` overrides the keys of the node the key was not found in
    (for plain nodes whose schema is applied later, such as the model group's)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    key = str(getattr(exc, "full_key", "") or "")
    field = ".".join(part for part in (prefix, key) if part) or "config"
    node, child = getattr(exc, "parent_node", None), getattr(exc, "key", None)
    if isinstance(exc, ValidationError) and node is not None and child is not None:
        hint = typing.get_type_hints(OmegaConf.get_type(node) or dict).get(str(child), Any)
        return InvalidParameterError(field, f"must be {describe(hint)}, got {exc.value!r}{_where(origin)}")
    if isinstance(exc, (ConfigKeyError, ConfigAttributeError)) and node is not None:
        keys = sorted(valid if valid is not None else (str(k) for k in node.keys() if k != "hydra"))
        if str(child) in keys:
            return InvalidParameterError(field, f"not set by the chosen config; add it with +{field}=VALUE")
        return unknown_key(field, keys, f"unknown key{_where(origin)}" if origin else "unknown config key")
    return InvalidParameterError(field, f"{str(getattr(exc, 'msg', exc)).splitlines()[0]}{_where(origin)}")


def unknown_key(field: str, valid: Iterable[str], rule: str, noun: str = "keys") -> InvalidParameterError:
    """``rule`` for ``field``, then the closest valid key (a likely typo) and all of them."""
    valid = sorted(valid)
    parent, _, key = field.rpartition(".")
    close = difflib.get_close_matches(key, valid, n=1)
    guess = f"; did you mean `{'.'.join(p for p in (parent, close[0]) if p)}`?" if close else ";"
    return InvalidParameterError(field, f"{rule}{guess} valid {noun} are {valid}")


def schema_keys(schema: type, path: Sequence[str]) -> list[str] | None:
    """The keys of the node at ``path`` in ``schema`` (``None`` where the path leaves the schema's dataclasses)."""
    for part in path:
        hint = typing.get_type_hints(schema).get(part)
        if not dataclasses.is_dataclass(hint):
            return None
        schema = hint  # type: ignore[assignment]
    return [f.name for f in dataclasses.fields(schema)]


def describe(hint: Any) -> str:
    """``Optional[int]`` -> ``an integer or null``: a type in words."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join([*(describe(a) for a in args if a is not type(None)), "null"])
    if origin is list:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(hint):
        return "a mapping"
    return _WORDS.get(hint, "a value of the right type")


def _where(origin: str | None) -> str:
    return f" in {origin}" if origin else ""


def yaml_error(exc: Exception, file: Path | None = None) -> InvalidParameterError:
    """A YAML syntax error as an error naming the file (``file``, else the parser's) and the place."""
    mark = getattr(exc, "problem_mark", None)
    name = file or (Path(mark.name) if mark is not None else None)
    if name is None:
        return InvalidParameterError("config", f"a config file is not valid YAML ({exc})")
    with contextlib.suppress(ValueError):  # relative to the working folder when below it
        name = name.resolve().relative_to(Path.cwd().resolve())
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or "syntax error"
    return InvalidParameterError(str(name), f"is not valid YAML: {problem}{where}; fix the file")
