"""Hydra's ConfigStore: the structured options of the ``backend`` and ``run`` groups, and the root config.

``backend=diffusers|sdcpp|openai`` and ``run=default`` are schemas derived from the config dataclasses, so
every default is written once, in the dataclass; YAML options in a config folder extend them
(``defaults: [openai]``). The root config is read from the package's ``config.yaml`` and stored here too:
Hydra looks the root up before it adds ``hydra.searchpath``, in its primary folder and the store only, and
the primary folder is the user's highest-priority one (``config_dirs.search_path``), which has no root.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from ..backends.factory import BACKENDS, backend_schema
from ..config_dirs import CONFIG_DIR
from .config import run_schema

ROOT_CONFIG = "abstractvision"
"""The root config's name in the store (not ``config``: a user folder's ``config.yaml`` must not replace it)."""

_OPTIONS: dict[str, dict[str, Callable[[], type]]] = {
    "backend": {kind: partial(backend_schema, kind) for kind in BACKENDS},
    "run": {"default": run_schema},
}
"""group -> option -> its schema: the structured options."""


@cache
def register() -> None:
    """Store the root config and the structured group options (once per process; before any compose)."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    store.store(name=ROOT_CONFIG, node=OmegaConf.load(CONFIG_DIR / "config.yaml"))
    for group, options in _OPTIONS.items():
        for name, schema in options.items():
            store.store(group=group, name=name, node=schema())


def stored_options(group: str) -> set[str]:
    """The structured options of ``group``, named without deriving them (``--help`` loads nothing)."""
    return set(_OPTIONS.get(group, {}))
