"""Export a run's outputs as a dataset, from its manifest alone (nothing is generated again).

Formats (one module each): ``imagefolder`` (files + ``metadata.jsonl``), ``parquet`` (sharded, image
bytes + parameters), ``webdataset`` (tar shards) and ``captions`` (image or video + ``.txt``). The export is
written into a staging folder beside ``out`` and renamed into place at the end, so an error or a kill
never leaves half an export under ``out``; every file is checked against the SHA-256 the run recorded.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ...errors import InvalidParameterError, RunError
from ...pipeline.run_dir import RunDir
from ..files import staged_folder
from .base import FormatWriter
from .captions import CaptionsWriter
from .imagefolder import ImageFolderWriter
from .parquet import ParquetWriter
from .selection import Sample, Selection, parse_where
from .webdataset import WebDatasetWriter

FORMATS: dict[str, type[FormatWriter]] = {
    "imagefolder": ImageFolderWriter,
    "parquet": ParquetWriter,
    "webdataset": WebDatasetWriter,
    "captions": CaptionsWriter,
}

__all__ = ["FORMATS", "ExportSummary", "Selection", "export_run", "parse_where", "read_checked"]


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    jobs: int
    files: int


def export_run(
    run_dir: str | os.PathLike[str],
    format: str,
    out: str | os.PathLike[str],
    *,
    status: str = "done",
    where: Mapping[str, Any] | None = None,
    shard_size: int = 1000,
    overwrite: bool = False,
    progress: bool = True,
) -> ExportSummary:
    """Write the ``status`` jobs of ``run_dir`` that match ``where`` to ``out`` in ``format``."""
    if format not in FORMATS:
        raise InvalidParameterError("--format", f"unknown format {format!r}; choose one of {list(FORMATS)}")
    if shard_size < 1:
        raise InvalidParameterError("--shard-size", f"must be an integer >= 1, got {shard_size!r}")
    run, target = RunDir(run_dir), Path(out)
    manifest = run.open_readonly()
    try:
        selection = Selection(manifest, run.path, status, where or {})
        media = _media(selection, format)
        with staged_folder(target, overwrite) as staging:
            files = _write(selection, FORMATS[format](staging, selection.columns(), shard_size, media), progress)
    finally:
        manifest.close()
    return ExportSummary(target, selection.jobs, files)


def _media(selection: Selection, format: str) -> str:
    """``video`` for a selection of videos, else ``image``; both, in a format that holds one kind, is refused."""
    media = selection.media()
    if len(media) > 1 and FORMATS[format].one_media:
        raise InvalidParameterError(
            "--where",
            f"selects both images and videos, and a {format} export holds one kind; narrow it, e.g. --where "
            "task=text_to_video, or use --format webdataset or captions, which hold both",
        )
    return "video" if media == {"video"} else "image"


def _write(selection: Selection, writer: FormatWriter, progress: bool) -> int:
    files = 0
    with tqdm(total=selection.jobs, unit="job", desc="export", disable=not progress) as bar:
        for sample in selection.samples():
            bar.update(sample.first)
            writer.add(sample, read_checked(sample))
            files += 1
        writer.close()
    return files


def read_checked(sample: Sample) -> bytes:
    """The sample's file, refused if it is gone or differs from the SHA-256 the run recorded."""
    try:
        data = sample.path.read_bytes()
    except OSError as exc:
        raise RunError(f"output {sample.path} of job {sample.key} cannot be read ({exc.strerror}); "
                       "run the same `abstractvision run` command again to redo it") from None  # fmt: skip
    if sample.sha256 and hashlib.sha256(data).hexdigest() != sample.sha256:
        raise RunError(
            f"output {sample.path} of job {sample.key} does not match the SHA-256 the run recorded (it was changed "
            "after the run); run the same `abstractvision run` command again to redo it"
        )
    return data
