"""Atomic file writes: a reader never sees a half-written output (or a half-written folder)."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InvalidParameterError


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a file written with open() would follow the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


@functools.cache
def _umask() -> int:
    """The process umask (read once: setting it is the only way to read it, and not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def staged_folder(target: Path, overwrite: bool, flag: str = "--out") -> Iterator[Path]:
    """A fresh hidden folder beside ``target`` to fill; renamed to ``target`` if the block succeeds, removed if
    not. A non-empty ``target`` is refused (naming ``flag``) unless ``overwrite``, and then replaced whole."""
    if target.exists() and not target.is_dir():
        raise InvalidParameterError(flag, f"{str(target)!r} is a file; name a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise InvalidParameterError(flag, f"{str(target)!r} is not empty; pick another folder or pass --overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
