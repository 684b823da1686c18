"""Preflight: what every job of a group needs, checked once before any job, without loading weights.

Plan time already validated the configs, fingerprinted LoRA and component files and checked capabilities;
preflight adds what only the backends know: their packages are installed, the model's files or cache
entries are in place, an HTTP server answers and takes the key (one ``GET /models``), and the run folder
can be written. Every failure of every group is reported in one ``PreflightError`` (exit code 2), before
anything is written. The dry run runs it too, without the network unless ``run.dry_run_network=true``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..backends.base_backend import VisionBackend
from ..errors import AbstractVisionError, PreflightError
from .worker import GroupDescription


def preflight(groups: list[tuple[GroupDescription, VisionBackend]], run_dir: Path, *, network: bool) -> list[str]:
    """Check each group through its (unloaded) backend, and ``run_dir``; raise one ``PreflightError`` naming
    every problem, or return notes."""
    problems, notes = [], []
    folder_problem = _unwritable(run_dir)
    if folder_problem:
        problems.append(folder_problem)
    for group, backend in groups:
        name = f"{group.model.name} ({group.backend})"
        try:
            notes += [f"{name}: {note}" for note in backend.preflight(network=network)]
        except AbstractVisionError as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}\n  {exc.advice}")
        finally:
            backend.unload()
    if problems:
        raise PreflightError("preflight failed, nothing was run or written:\n" + "\n".join(problems))
    return notes


def _unwritable(run_dir: Path) -> str | None:
    """Why ``run_dir`` (or the folder it would be created in) cannot be written, if it cannot."""
    folder = run_dir.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder == run_dir.absolute() and not folder.is_dir():
        return None  # the run folder itself is a file: checking the run folder says so
    if not folder.is_dir():
        return f"run.dir: {str(run_dir)!r} cannot be made: {folder} is a file, not a folder; pick another run.dir"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"run.dir: {folder} is not writable; fix its permissions or pick another run.dir"
    return None
