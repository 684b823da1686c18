"""Which files of a run an export holds: the manifest's jobs, filtered, as samples (one per output file).

Everything is streamed from the manifest: counting, the column types and the filter run in SQLite, and
samples are produced one at a time, so a million-job run never sits in memory.

A view set gives one sample per view (``<job_id>-<view label>``, its label in the ``view`` column); its
contact sheet, made from the views, is left out. A video gives one sample, its file; the frame PNGs that
``frame_pngs=true`` adds are decoded copies of it and are left out too.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InvalidParameterError
from ...pipeline.manifest import JOB_FIELDS, STATUSES, Manifest
from ...pipeline.params import normalize
from ...pipeline.prompt_files import parse_cell
from ...tasks import FILE_PARAMS, PARAMS, TASK_TABLE, get_task


@dataclass(frozen=True)
class Sample:
    """One exported file: its key (``<job_id>`` or ``<job_id>-<view>``), where it is and its record.
    ``first`` marks a job's first file (progress counts jobs); ``video`` a video task's file."""

    key: str
    path: Path
    mime: str
    sha256: str | None
    record: dict[str, Any]
    first: bool = True
    video: bool = False

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


class Selection:
    """The jobs of ``manifest`` with ``status`` whose fields equal ``where``'s values (checked at once)."""

    def __init__(self, manifest: Manifest, run_dir: Path, status: str, where: Mapping[str, Any]) -> None:
        if status not in STATUSES:
            raise InvalidParameterError("--status", f"must be one of {list(STATUSES)}, got {status!r}")
        self.manifest, self.run_dir, self.status = manifest, run_dir, status
        self.fields = manifest.fields(status)
        known = [*JOB_FIELDS, *self.fields["params"], *self.fields["labels"]]
        for key in where:
            if key not in known:
                raise InvalidParameterError("--where", f"{key!r} is not a field of this run; its fields are {known}")
        self.where = {k: normalize(k, v) if k in PARAMS else v for k, v in where.items()}
        self.jobs = manifest.count(status, self.where)
        if not self.jobs:
            raise InvalidParameterError(
                "--where" if where else "--status",
                f"selects no jobs ({manifest.count(status)} are {status!r} in {str(run_dir)!r}); loosen the filter",
            )

    def columns(self) -> dict[str, str]:
        """Every row field and its kind (``int``, ``float``, ``str``, ``bool`` or ``json``), in a fixed order."""
        columns = {"job_id": "str", "model": "str", "task": "str", "backend": "str", "seed": "int", "view": "str"}
        for kind in ("params", "labels"):
            for key in sorted(self.fields[kind]):
                columns[_column(key) if kind == "params" else key] = _kind(self.fields[kind][key])
        return columns

    def media(self) -> set[str]:
        """What the selected jobs made: ``image`` (images and view sets), ``video``, or both (counted in SQLite)."""
        tasks = [t for t in TASK_TABLE if self.where.get("task", t) == t]
        made = [t for t in tasks if self.manifest.count(self.status, {**self.where, "task": t})]
        return {"video" if get_task(t).output == "video" else "image" for t in made}

    def samples(self) -> Iterator[Sample]:
        for record in self.manifest.records(self.status, self.where):
            video = get_task(record["task"]).output == "video"
            for index, (key, view, file) in enumerate(_samples(self.run_dir, record)):
                path, mime = self.run_dir / file["path"], file.get("mime", "")
                yield Sample(key, path, mime, file.get("sha256"), _row(record, view), index == 0, video)


def parse_where(items: list[str], flag: str = "--where") -> dict[str, Any]:
    """``["guidance_scale=7.5", ...]`` as ``{"guidance_scale": 7.5}`` (values typed like csv cells); a bad item is
    refused naming ``flag``, the option it came from."""
    where = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(flag, f"expects KEY=VALUE, got {item!r}")
        where[key.strip()] = parse_cell(value)
    return where


def _row(record: Mapping[str, Any], view: str | None) -> dict[str, Any]:
    job = record["params"]
    return {
        "job_id": record["job_id"],
        "model": record["model"],
        "task": record["task"],
        "backend": record["backend"],
        "seed": record["seed"],
        "view": view,
        **{_column(key): value for key, value in job.get("params", {}).items()},
        **record["labels"],
    }


def _column(param: str) -> str:
    """A parameter's column: an input file's (``sha256:<hex>``) is ``input_<name>``, so that ``image`` stays
    the exported picture's column."""
    return f"input_{param}" if param in FILE_PARAMS else param


def _samples(run_dir: Path, record: Mapping[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """``(key, view label, file entry)`` of each file of the job that an export holds."""
    job_id, files = record["job_id"], _files(run_dir, record)
    output = get_task(record["task"]).output
    views = [f for f in files if f.get("view")] if output == "images" else []
    if views:
        return [(f"{job_id}-{f['view']}", f["view"], f) for f in views]
    if output == "video":
        files = files[:1]
    return [(job_id if i == 0 else f"{job_id}-{i}", None, f) for i, f in enumerate(files)]


def _files(run_dir: Path, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The job's files from its sidecar (every view of a view set), else its one recorded output."""
    output = record.get("output")
    if not output:
        return []
    sidecar = (run_dir / output).with_name(f"{record['job_id']}.json")
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return [{"path": output, "mime": mimetypes.guess_type(output)[0] or "", "sha256": record.get("sha256")}]


def _kind(json_types: set[str]) -> str:
    types = json_types - {"null"}
    if types <= {"integer"}:
        return "int" if types else "str"
    if types <= {"integer", "real"}:
        return "float"
    if types <= {"true", "false"}:
        return "bool"
    return "str" if types == {"text"} else "json"
