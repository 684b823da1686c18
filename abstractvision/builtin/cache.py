"""The one owner of AbstractVision's cache folder (built models, the sd-cli build)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$ABSTRACTVISION_CACHE`` if set, else ``$XDG_CACHE_HOME/abstractvision`` or ``~/.cache/abstractvision``."""
    if os.environ.get("ABSTRACTVISION_CACHE"):
        return Path(os.environ["ABSTRACTVISION_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "abstractvision"
