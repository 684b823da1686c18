"""Content fingerprints of the files a job's output depends on (LoRAs, component files, model files).

A job id names files by content, not by path, so the same files give the same id on any machine and a
changed file gives new jobs. Hashing a multi-GB GGUF file takes seconds, so each fingerprint is cached
in ``<cache>/fingerprints.json`` keyed by path, size and modification time: a file that did not change
is hashed once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from .builtin.cache import cache_root
from .errors import InvalidParameterError
from .outputs.files import write_atomic

_CHUNK = 8 * 2**20
_lock = threading.Lock()


def fingerprint(field: str, path: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` of a file, or of a folder's files (names and contents); raises naming ``field``."""
    target = Path(path).expanduser()
    try:
        if target.is_dir():
            digest = hashlib.sha256()
            for file in sorted(p for p in target.rglob("*") if p.is_file() and not p.name.startswith(".")):
                digest.update(f"{file.relative_to(target).as_posix()}\0{_file_sha256(file)}\n".encode())
            return f"sha256:{digest.hexdigest()}"
        return f"sha256:{_file_sha256(target)}"
    except OSError as exc:
        raise InvalidParameterError(field, f"cannot read {str(path)!r}: {exc.strerror}; check the path") from None


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache = _load_cache()
    if key in cache:
        return cache[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    _store(key, digest.hexdigest())
    return digest.hexdigest()


def _cache_file() -> Path:
    return cache_root() / "fingerprints.json"


def _load_cache() -> dict[str, str]:
    try:
        return json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _store(key: str, value: str) -> None:
    """Add one entry (small files are not worth remembering: they hash faster than the cache loads)."""
    if int(key.rsplit("|", 2)[1]) < _CHUNK:
        return
    with _lock:
        cache = _load_cache()
        cache[key] = value
        try:
            write_atomic(_cache_file(), json.dumps(cache, sort_keys=True).encode())
        except OSError:
            pass  # a read-only cache only costs re-hashing next time
