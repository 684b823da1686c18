"""Input images as a sweep axis: a folder or a glob pattern given for a file parameter becomes its files.

``image=inputs/`` (every image in the folder) and ``image='inputs/*.png'`` (a glob) expand to the
matching files in sorted order, one job per file; a list (``image=a.png,b.png``) is an ordinary axis.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidParameterError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
_GLOB_CHARS = ("*", "?", "[")


def expand_input_files(field: str, value: object, find: Callable[[str], Path]) -> list[str] | None:
    """The files a folder or glob ``value`` names (``None``: a single file); none at all raises naming ``field``.

    ``find`` resolves a relative path the way every input file is found (working folder, then config folders).
    """
    if not isinstance(value, str):
        return None
    if any(char in value for char in _GLOB_CHARS):
        pattern = Path(value).expanduser()
        base = pattern if pattern.is_absolute() else find(".") / pattern
        files = sorted(p for p in glob.glob(str(base), recursive=True) if Path(p).is_file())
        what = f"no file matches the pattern {value!r}"
    else:
        folder = find(value)
        if not folder.is_dir():
            return None
        files = sorted(str(p) for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        what = f"the folder {value!r} holds no image ({', '.join(IMAGE_SUFFIXES)})"
    if not files:
        raise InvalidParameterError(field, f"{what}; check the path")
    return files
