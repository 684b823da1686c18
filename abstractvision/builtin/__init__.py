"""The built-in offline models (``builtin:<name>`` sources): built deterministically into the user cache.

The default run, the docs and the tests use them; nothing is downloaded. Backends resolve a
``builtin:`` source through ``ensure_builtin``, the one place that knows how each is made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelNotFoundError
from . import sd1_layout, tiny_animatediff, tiny_cogvideox, tiny_ltx, tiny_sd, tiny_svd, tiny_wan
from .cache import cache_root

BUILTIN_PREFIX = "builtin:"


#: name -> (builder, builder version): the version is recorded in outputs' metadata.
BUILTINS: dict[str, tuple[Callable[[], Path], int]] = {
    "tiny-sd": (functools.partial(tiny_sd.ensure_builtin_model, "tiny-sd"), tiny_sd.BUILDER_VERSION),
    "tiny-sd-alt": (functools.partial(tiny_sd.ensure_builtin_model, "tiny-sd-alt"), tiny_sd.BUILDER_VERSION),
    "sd1-layout": (sd1_layout.ensure_sd1_layout_model, sd1_layout.SD1_LAYOUT_VERSION),
    "tiny-svd": (tiny_svd.ensure_tiny_svd, tiny_svd.BUILDER_VERSION),
    **{name: (functools.partial(tiny_wan.ensure_tiny_wan, name), tiny_wan.BUILDER_VERSION) for name in tiny_wan.MODELS},
    "tiny-animatediff": (tiny_animatediff.ensure_tiny_animatediff, tiny_animatediff.BUILDER_VERSION),
    "tiny-ltx-video": (tiny_ltx.ensure_tiny_ltx, tiny_ltx.BUILDER_VERSION),
    **{
        name: (functools.partial(tiny_cogvideox.ensure_tiny_cogvideox, name), tiny_cogvideox.BUILDER_VERSION)
        for name in tiny_cogvideox.MODELS
    },
}


def is_builtin(source: str) -> bool:
    return source.startswith(BUILTIN_PREFIX)


def builtin_name(source: str) -> str:
    """``builtin:tiny-sd`` -> ``tiny-sd``; an unknown name raises ``ModelNotFoundError`` listing the known ones."""
    name = source.removeprefix(BUILTIN_PREFIX)
    if name not in BUILTINS:
        raise ModelNotFoundError(f"unknown built-in model {name!r}; built-in models are {sorted(BUILTINS)}", model=name)
    return name


def ensure_builtin(source: str) -> Path:
    """The folder of built-in model ``source`` (``builtin:tiny-sd`` or ``tiny-sd``), building it on first use."""
    return BUILTINS[builtin_name(source)][0]()


def builder_version(source: str) -> int:
    return BUILTINS[builtin_name(source)][1]


__all__ = [
    "BUILTINS",
    "BUILTIN_PREFIX",
    "builder_version",
    "builtin_name",
    "cache_root",
    "ensure_builtin",
    "is_builtin",
]
