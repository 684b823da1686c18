"""The built-in offline models (``builtin:<name>`` sources): built deterministically into the user cache.

The default run, the docs and the tests use them; nothing is downloaded. Backends resolve a
``builtin:`` source through ``ensure_builtin``, the one place that knows how each is made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFoundError
from . import sd1_layout, tiny_animatediff, tiny_cogvideox, tiny_ltx, tiny_sd, tiny_svd, tiny_wan
from .atomic_build import build_model_once
from .cache import cache_root

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class Builtin:
    """How one built-in model is made: ``build(folder, seed=seed)`` writes it from random weights.

    ``version`` names its cache folder (``<cache>/models/<name>-v<version>``) and is recorded in outputs'
    metadata: a builder that would write other files bumps it, and old caches are then simply ignored.
    """

    build: Callable[..., object]
    version: int
    seed: int = 0


BUILTINS: dict[str, Builtin] = {
    **{
        name: Builtin(tiny_sd.build_tiny_sd, tiny_sd.BUILDER_VERSION, seed)
        for name, seed in tiny_sd.BUILTIN_MODELS.items()
    },
    "sd1-layout": Builtin(sd1_layout.build_sd1_layout, sd1_layout.SD1_LAYOUT_VERSION, sd1_layout.SD1_LAYOUT_SEED),
    "tiny-svd": Builtin(tiny_svd.build_tiny_svd, tiny_svd.BUILDER_VERSION),
    **{
        name: Builtin(functools.partial(tiny_wan.build_tiny_wan, image_to_video=i2v), tiny_wan.BUILDER_VERSION, seed)
        for name, (seed, i2v) in tiny_wan.MODELS.items()
    },
    # tiny-sd's seed: its image part is tiny-sd's weights
    "tiny-animatediff": Builtin(
        tiny_animatediff.build_tiny_animatediff, tiny_animatediff.BUILDER_VERSION, tiny_sd.BUILTIN_MODELS["tiny-sd"]
    ),
    "tiny-ltx-video": Builtin(tiny_ltx.build_tiny_ltx, tiny_ltx.BUILDER_VERSION),
    **{
        name: Builtin(
            functools.partial(tiny_cogvideox.build_tiny_cogvideox, image_to_video=i2v), tiny_cogvideox.BUILDER_VERSION
        )
        for name, i2v in tiny_cogvideox.MODELS.items()
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
    name = builtin_name(source)
    builtin = BUILTINS[name]
    build = functools.partial(builtin.build, seed=builtin.seed)
    return build_model_once(name, builtin.version, builtin.seed, build)


def builder_version(source: str) -> int:
    return BUILTINS[builtin_name(source)].version


__all__ = [
    "BUILTINS",
    "BUILTIN_PREFIX",
    "Builtin",
    "builder_version",
    "builtin_name",
    "cache_root",
    "ensure_builtin",
    "is_builtin",
]
