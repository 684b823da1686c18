"""Build a folder once, atomically: a folder at the target path is always a complete build.

A build goes to a temporary sibling folder that is renamed into place when complete, so concurrent
builders race safely (the loser throws its copy away) and a killed build never leaves a half-written
folder behind. No lock is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .cache import cache_root
from .requirements import libraries_missing

MARKER_FILE = "abstractvision-builder.json"
STALE_TEMP_SECONDS = 3600


def build_once(target: Path, build: Callable[[Path], object], info: dict[str, object]) -> Path:
    """Make ``target`` with ``build(folder)`` unless a complete build is already there.

    The build writes into a temporary sibling folder, adds a marker file holding ``info`` and is renamed
    to ``target``: a folder at ``target`` is therefore always complete. Concurrent builders race on
    the rename and the loser discards its copy; no lock is needed.
    """
    if (target / MARKER_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(target.parent)
    temp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        build(temp)
        (temp / MARKER_FILE).write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
        try:
            os.rename(temp, target)
        except OSError:
            if not (target / MARKER_FILE).is_file():  # not another builder's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def build_model_once(name: str, version: int, seed: int, build: Callable[[Path], object]) -> Path:
    """Built-in model ``name``'s folder, ``<cache>/models/<name>-v<version>``, made by ``build`` on first use.

    A library the build imports that is missing becomes the one error naming the extra to install.
    """

    def build_or_explain(folder: Path) -> None:
        try:
            build(folder)
        except ImportError as exc:
            raise libraries_missing(exc) from exc

    info = {"name": name, "builder_version": version, "seed": seed}
    return build_once(cache_root() / "models" / f"{name}-v{version}", build_or_explain, info)


def _remove_stale_temp_dirs(models_dir: Path) -> None:
    """Drop temporary build folders left by killed builders (never a fresh one: it may be in progress)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in models_dir.glob(".tmp-*"):
        try:
            if temp.stat().st_mtime < cutoff:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            continue
