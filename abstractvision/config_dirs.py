"""Where configs are found: ``./conf``, then ``--config-dir`` folders, then the package's shipped defaults.

One order, highest priority first, for everything that reads config folders: Hydra's compose, the group
options ``--help`` lists, the model registry and relative input files (prompt files, images). The first
folder holding an option wins, so a user's ``model/tiny-sd.yaml`` replaces the shipped one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "conf"
"""The shipped defaults (inside the package, so wheels carry them)."""
LOCAL_CONFIG_DIR = "conf"
"""The user-level config folder picked up from the current folder with no flag."""


def user_config_dirs(flags: Iterable[str | Path] = (), cwd: Path | None = None) -> tuple[Path, ...]:
    """``./conf`` (when the current folder has one), then the ``--config-dir`` folders in the order given."""
    local = (cwd or Path.cwd()) / LOCAL_CONFIG_DIR
    given = tuple(Path(d).expanduser() for d in flags)
    return (local, *given) if local.is_dir() else given


def search_path(config_dirs: Sequence[Path] = ()) -> tuple[Path, ...]:
    """``config_dirs`` then the package's defaults: the order every config lookup follows."""
    return (*config_dirs, CONFIG_DIR)
