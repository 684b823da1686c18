"""A run folder: its paths, its lock, its manifest, and the clean-up a killed runner leaves to do.

Layout::

    <run_dir>/manifest.sqlite        the source of truth (see docs/manifest.md)
    <run_dir>/.lock                  held (flock) by the one runner working here
    <run_dir>/outputs/<job_id>.*     outputs, named by job id, plus <job_id>.json sidecars

``run``, ``status`` and ``grid`` open run folders only through ``RunDir``; export, gallery and verify
will too. The lock is an exclusive ``flock``: the kernel releases it when its process exits, however
it exits (SIGKILL included), so a crashed runner never leaves a stale lock; the file only says who
holds it, and is emptied on release, so a runner that finds it filled knows that the last one died.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import RunError, RunLockedError
from .manifest import Manifest, damaged

log = logging.getLogger(__name__)
MANIFEST_FILE = "manifest.sqlite"
LOCK_FILE = ".lock"
OUTPUTS_DIR = "outputs"
NEW_MANIFEST = ".manifest.sqlite.new"
"""A manifest being created: built under this name, then renamed into place whole."""
_SQLITE_HEADER = b"SQLite format 3\x00"


class RunDir:
    """The run folder at ``path`` (which may not exist yet)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_FILE

    @property
    def outputs(self) -> Path:
        return self.path / OUTPUTS_DIR

    def check_usable(self) -> None:
        """Refuse a path that is a file, or a non-empty folder that is not a run (before anything is written)."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"run.dir {str(self.path)!r} is a file, not a folder; pick another run.dir")
        manifest = self.manifest_path
        if manifest.is_file() and _header(manifest) != _SQLITE_HEADER:
            if self.outputs.is_dir():  # a run's manifest, truncated or overwritten
                raise damaged(manifest, "its first bytes are not SQLite's: truncated or overwritten")
            raise RunError(f"{manifest} is not an AbstractVision manifest (not SQLite); use another run.dir")
        if manifest.is_file():  # a damaged run, or one of another identity version, is refused before the lock
            existing = Manifest(manifest, readonly=True)
            try:
                existing.check_integrity()
                existing.check_identity_version()
            finally:
                existing.close()
        if self.path.is_dir() and not manifest.exists():
            ours = (LOCK_FILE, NEW_MANIFEST)
            others = [p.name for p in self.path.iterdir() if not p.name.startswith(ours)]
            if others:
                raise RunError(
                    f"run.dir {str(self.path)!r} holds other files ({', '.join(sorted(others)[:3])}) and no "
                    f"{MANIFEST_FILE}; it is not a run folder, so pick a new or empty run.dir"
                )

    @contextmanager
    def open_for_writing(self) -> Iterator[Manifest]:
        """Create the folder if needed, hold its lock, and yield its manifest (read-write)."""
        self.check_usable()
        self.path.mkdir(parents=True, exist_ok=True)
        with RunLock(self.path):
            if not self.manifest_path.exists():
                self._create_manifest()
            manifest = Manifest(self.manifest_path)
            try:
                yield manifest
            finally:
                manifest.close()

    def open_readonly(self) -> Manifest:
        """The manifest of an existing run, read-only (for ``status``, ``grid`` and other readers)."""
        if not self.manifest_path.is_file():
            raise RunError(f"{str(self.path)!r} is not a run folder (no {MANIFEST_FILE}); pass a folder under runs/")
        return Manifest(self.manifest_path, readonly=True)

    def _create_manifest(self) -> None:
        """Build a new manifest's whole schema under a temporary name, then rename it into place: a runner killed
        half-way leaves only that temporary file (replaced here next time), never a manifest without its tables,
        which every later runner would refuse."""
        partial = self.path / NEW_MANIFEST
        for leftover in self.path.glob(f"{NEW_MANIFEST}*"):  # with its -wal and -shm, if a kill left them
            leftover.unlink()
        Manifest(partial).close()
        os.replace(partial, self.manifest_path)

    def remove_temp_files(self) -> None:
        """Half-written outputs of a runner that was killed (call with the lock held: nobody is writing)."""
        if self.outputs.is_dir():
            for temp in self.outputs.glob(".*.tmp"):
                temp.unlink(missing_ok=True)


class RunLock:
    """An exclusive ``flock`` on ``<run_dir>/.lock``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunLockedError(
                f"run dir {str(self.run_dir)!r} is in use by another runner ({holder}); wait for it to finish, "
                "stop it, or pick another run.dir (the lock goes away by itself when that process exits)"
            ) from None
        left = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if left:
            log.warning("run dir %r: its last runner (%s) did not exit cleanly; taking over", str(self.run_dir), left)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _header(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)
