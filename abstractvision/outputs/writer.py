"""Writing a job's outputs: files named by job id, written atomically, plus a JSON sidecar.

A PNG gets the web-UI ``parameters`` chunk and the ``abstractvision`` JSON record of the job (job id,
identity, backend metadata; no timings and no local paths, so reruns are byte-identical). The sidecar
``<job_id>.json`` holds the same record plus timings, input paths and every file with its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..media.mime import EXTENSIONS
from ..media.png import PARAMETERS_KEY, RECORD_KEY, a1111_parameters, deterministic_record
from ..media.png_chunks import set_png_text
from ..types import GeneratedAsset
from .files import write_atomic


@dataclass(frozen=True)
class WrittenOutput:
    """The main file (relative to the run folder) and its SHA-256."""

    output: str
    sha256: str


def job_record(job_id: str, identity: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance record of one output: the backend's metadata, the job id and the job's identity."""
    return {**metadata, "job_id": job_id, "job": dict(identity)}


def write_job_outputs(
    run_dir: Path,
    folder: Path,
    job_id: str,
    identity: Mapping[str, Any],
    assets: Sequence[GeneratedAsset],
    extra: Mapping[str, Any] | None = None,
) -> WrittenOutput:
    """Write ``assets`` as ``<folder>/<job_id>[-i].<ext>`` and the sidecar; files first, sidecar last.

    Paths in the sidecar and the result are relative to ``run_dir``.
    """
    files = []
    for index, asset in enumerate(assets):
        record = job_record(job_id, identity, asset.metadata)
        data = asset.data
        if asset.mime_type == "image/png":
            texts = {PARAMETERS_KEY: a1111_parameters(record), RECORD_KEY: _json(deterministic_record(record))}
            data = set_png_text(data, texts)
        name = job_id if index == 0 else f"{job_id}-{index}"
        path = write_atomic(folder / f"{name}{EXTENSIONS.get(asset.mime_type, '.bin')}", data)
        files.append({"path": path.relative_to(run_dir).as_posix(), "sha256": _sha256(data), "mime": asset.mime_type})
    sidecar = {**job_record(job_id, identity, assets[0].metadata), **(extra or {}), "files": files}
    write_atomic(
        folder / f"{job_id}.json", (json.dumps(sidecar, indent=2, sort_keys=True, default=str) + "\n").encode()
    )
    return WrittenOutput(files[0]["path"], files[0]["sha256"])


def file_sha256(path: Path) -> str | None:
    """SHA-256 of the file at ``path``, or ``None`` if it cannot be read."""
    try:
        return _sha256(path.read_bytes())
    except OSError:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
