"""Hydra's ConfigStore: the structured options of the ``backend`` and ``run`` groups, and the root config.

``backend=diffusers|sdcpp|openai`` and ``run=default`` are schemas derived from the config dataclasses, so
every default is written once, in the dataclass; YAML options in a config folder extend them
(``defaults: [openai]``). The root config is read from the package's ``config.yaml`` and stored here too:
Hydra looks the primary config up before it adds ``hydra.searchpath``, and the primary folder is the
user's highest-priority one (``config_dirs``), which holds no root config.
"""

from __future__ import annotations

from functools import cache

from ..backends.factory import BACKENDS, backend_schema
from ..config_dirs import CONFIG_DIR
from .config import run_schema

ROOT_CONFIG = "abstractvision"
"""The root config's name in the store (not ``config``: a user folder's ``config.yaml`` must not replace it)."""


@cache
def register() -> None:
    """Store the root config and the structured group options (once per process; before any compose)."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    store.store(name=ROOT_CONFIG, node=OmegaConf.load(CONFIG_DIR / "config.yaml"))
    for kind in BACKENDS:
        store.store(group="backend", name=kind, node=backend_schema(kind))
    store.store(group="run", name="default", node=run_schema())


def stored_options(group: str) -> set[str]:
    """The options of ``group`` that live in the ConfigStore (structured configs)."""
    from hydra.core.config_store import ConfigStore

    register()
    try:
        return {name.removesuffix(".yaml") for name in ConfigStore.instance().list(group)}
    except OSError:  # not a group of the store
        return set()
