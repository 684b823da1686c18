"""Writing a job's outputs: files named by job id, written atomically, plus a JSON sidecar.

A view set (assets labelled with ``metadata["view"]``) is written as ``<job_id>-<view>.png`` per view and
a labelled contact sheet ``<job_id>.png``, the job's main file. A video keeps its container's extension;
its frame PNGs (``metadata["frame"]``) are ``<job_id>-frame0000.png``, ...

A PNG gets the web-UI ``parameters`` chunk and the ``abstractvision`` JSON record of the job (job id,
identity, backend metadata; no timings and no local paths, so reruns are byte-identical). The sidecar
``<job_id>.json`` holds the same record plus timings, input paths and every file with its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..media.mime import EXTENSIONS
from ..media.png import PARAMETERS_KEY, RECORD_KEY, a1111_parameters, deterministic_record, encode_png
from ..media.png_chunks import set_png_text
from ..types import GeneratedAsset
from .files import write_atomic
from .grid import GridCell, Layout, contact_sheets


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
    views = [asset.metadata.get("view") for asset in assets]
    labels = [(asset.metadata.get("view") or asset.metadata.get("frame") or {}).get("label") for asset in assets]
    for index, asset in enumerate(assets):
        record = job_record(job_id, identity, asset.metadata)
        data = asset.data
        if asset.mime_type == "image/png":
            texts = {PARAMETERS_KEY: a1111_parameters(record), RECORD_KEY: _json(deterministic_record(record))}
            data = set_png_text(data, texts)
        name = f"{job_id}-{labels[index]}" if labels[index] else job_id if index == 0 else f"{job_id}-{index}"
        path = write_atomic(folder / f"{name}{EXTENSIONS.get(asset.mime_type, '.bin')}", data)
        entry = {"path": path.relative_to(run_dir).as_posix(), "sha256": _sha256(data), "mime": asset.mime_type}
        files.append({**entry, "view": views[index]["label"]} if views[index] else entry)
    if all(views):
        files.insert(0, _write_view_sheet(run_dir, folder, job_id, identity, files))
    sidecar = {**job_record(job_id, identity, assets[0].metadata), **(extra or {}), "files": files}
    write_atomic(
        folder / f"{job_id}.json", (json.dumps(sidecar, indent=2, sort_keys=True, default=str) + "\n").encode()
    )
    return WrittenOutput(files[0]["path"], files[0]["sha256"])


def _write_view_sheet(
    run_dir: Path, folder: Path, job_id: str, identity: Mapping[str, Any], views: list[dict[str, Any]]
) -> dict[str, Any]:
    """The contact sheet of a view set (one labelled column per view) as ``<job_id>.png``; its file entry."""
    cells = [GridCell(run_dir / f["path"], {"view": f["view"]}) for f in views]
    layout = Layout(x="view" if len(cells) > 1 else None, y=None, z=None, pages=())
    sheet = contact_sheets(cells, layout, max_cols=len(cells))[0].image  # one row, in the order asked
    record = {"job_id": job_id, "job": dict(identity), "views": [f["view"] for f in views]}
    data = encode_png(sheet, record)
    path = write_atomic(folder / f"{job_id}.png", data)
    return {"path": path.relative_to(run_dir).as_posix(), "sha256": _sha256(data), "mime": "image/png"}


def outputs_intact(run_dir: Path, job_id: str, output: str, sha256: str | None, *, full: bool) -> bool:
    """Whether a done job's files are all in place: its main file, its sidecar, and every file the sidecar lists.

    ``full`` also compares each file's SHA-256 (the main file's with the manifest's). A job with several
    files (a view set, a video and its frames) is thereby verified file by file. A resume calls this once
    per done job, so it reads each file once and works on plain path strings.
    """
    root = os.fspath(run_dir)
    main = os.path.join(root, output)
    if not _file_intact(main, sha256, full):
        return False
    try:
        with open(os.path.join(os.path.dirname(main), f"{job_id}.json"), "rb") as sidecar:
            files = [(f["path"], f["sha256"]) for f in json.loads(sidecar.read())["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    others = [(os.path.join(root, path), digest) for path, digest in files if path != output]  # main: checked
    return all(_file_intact(path, digest, full) for path, digest in others)


def _file_intact(path: str, sha256: str | None, full: bool) -> bool:
    """The file is there (``full``: and has ``sha256``; a missing one never matches, not even ``None``)."""
    if full:
        return sha256 is not None and file_sha256(path) == sha256
    return os.path.isfile(path)


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of the file at ``path``, or ``None`` if it cannot be read."""
    try:
        with open(path, "rb") as file:
            return _sha256(file.read())
    except OSError:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
