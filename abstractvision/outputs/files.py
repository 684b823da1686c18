"""Atomic file writes: a reader never sees a half-written output."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


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
