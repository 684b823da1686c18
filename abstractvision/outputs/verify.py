"""``verify``: re-run a sample of a run's done jobs with their recorded config and compare the pixels.

The stored PNG carries text chunks (parameters, the job record) that a fresh asset does not, so the
comparison is of decoded pixels: exact by default, or a maximum difference per channel (``tolerance``).
A job is compared file by file, every file its sidecar lists that the job itself made: each view of a
view set (its contact sheet is drawn from them), a video frame by frame, and its frame PNGs.
The sample is the done jobs with the smallest ids (ids are hashes: uniform, and the same every time).
Each verification is recorded in the manifest with where it ran: machine, library versions, threads.
A mismatch is reported with what differs between the environment the run recorded and this one (device,
dtype, thread count, library versions), because on CPU a thread count or a library version can move
pixels by a few levels without any bug (docs/review.md).
"""

from __future__ import annotations

import io
import json
import os
import platform
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops
from tqdm.auto import tqdm

from ..errors import InvalidParameterError
from ..media.frames import iter_frames
from ..pipeline.recorded_groups import recorded_group
from ..pipeline.run_dir import RunDir
from ..pipeline.worker import JobFailed, JobSpec, Worker
from ..tasks import get_task
from ..types import GeneratedAsset

ENVIRONMENT_KEYS = ("device", "dtype", "threads", "versions")


@dataclass(frozen=True)
class Check:
    """One job's result: whether it reproduced, the largest pixel difference, and why not if it did not."""

    job_id: str
    ok: bool
    max_diff: int | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "ok": self.ok, "max_diff": self.max_diff, "note": self.note}


def verify_run(
    run_dir: str | os.PathLike[str],
    *,
    sample: int = 8,
    tolerance: int = 0,
    secrets: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> list[Check]:
    """Re-run ``sample`` done jobs of ``run_dir``, compare, record the verification; the checks in order."""
    if sample < 1:
        raise InvalidParameterError("--sample", f"must be an integer >= 1, got {sample!r}")
    if not 0 <= tolerance <= 255:
        raise InvalidParameterError("--tolerance", f"must be a pixel difference from 0 to 255, got {tolerance!r}")
    run = RunDir(run_dir)
    run.open_readonly().close()  # an unknown folder is refused before a lock file is made in it
    with run.open_for_writing() as manifest:
        records = sorted(manifest.sample(sample), key=lambda r: (r["group_key"], r["job_id"]))
        if not records:
            raise InvalidParameterError("run_dir", f"{str(run.path)!r} has no done jobs to verify")
        groups = {key: recorded_group(manifest, key, secrets) for key in dict.fromkeys(r["group_key"] for r in records)}
        checks, environment = [], {}
        with tqdm(total=len(records), unit="job", desc="verify", disable=not progress) as bar:
            for key, group in groups.items():
                worker = Worker(group)
                try:
                    for record in (r for r in records if r["group_key"] == key):
                        check, environment = _check(worker, run.path, record, tolerance)
                        checks.append(check)
                        bar.update()
                finally:
                    worker.close()
        manifest.record_verification(socket.gethostname(), _environment(environment), tolerance,
                                     [c.as_dict() for c in checks])  # fmt: skip
    return checks


def _check(worker: Worker, run_dir: Path, record: Mapping[str, Any], tolerance: int) -> tuple[Check, dict]:
    job = JobSpec(record["job_id"], record["group_key"], record["task"], record["params"], record["inputs"])
    recorded = _recorded_metadata(run_dir / record["output"])
    try:
        assets = worker(job).assets
    except JobFailed as exc:
        return Check(job.job_id, False, None, f"re-running failed: {exc.error}"), {}
    environment = dict(assets[0].metadata)
    diffs = _file_differences(run_dir, job.task, recorded.get("files") or [{"path": record["output"]}], assets)
    if isinstance(diffs, str):
        return Check(job.job_id, False, None, diffs), environment
    diff = max(diffs.values())
    ok = diff <= tolerance
    where = "" if len(diffs) == 1 else f"{sum(d > tolerance for d in diffs.values())} of {len(diffs)} files differ; "
    note = "" if ok else where + _explain(recorded, environment)
    return Check(job.job_id, ok, diff, note), environment


def _file_differences(
    run_dir: Path, task: str, files: list[dict[str, Any]], assets: Sequence[GeneratedAsset]
) -> dict[str, int] | str:
    """The largest pixel difference of each stored file from the asset it was made from, by file name; or
    why they cannot be compared."""
    stored = _made_files(files)
    if len(stored) != len(assets):
        return f"made {len(assets)} files, the run stored {len(stored)}"
    video = get_task(task).output == "video"
    diffs: dict[str, int | None] = {}
    for index, (entry, asset) in enumerate(zip(stored, assets, strict=True)):
        path = run_dir / entry["path"]
        try:
            if video and index == 0:  # the clip itself, frame by frame; its frame PNGs are plain images
                diffs[path.name] = _frames_difference(path, asset.data)
            else:
                with Image.open(path) as stored_image, Image.open(io.BytesIO(asset.data)) as fresh_image:
                    diffs[path.name] = _max_difference(stored_image, fresh_image)
        except OSError as exc:
            return f"stored file {path.name} unreadable: {exc}"
    unequal = [name for name, diff in diffs.items() if diff is None]
    if unequal:
        return f"sizes, modes or frame counts differ: {', '.join(unequal)}"
    return {name: diff for name, diff in diffs.items() if diff is not None}


def _made_files(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sidecar's files that the job's assets became, in their order (a view set's sheet is drawn later)."""
    views = [entry for entry in files if entry.get("view")]
    return views or files


def _frames_difference(stored: Path, fresh: bytes) -> int | None:
    """The largest pixel difference over the frames of two videos (``None``: frame counts or sizes differ)."""
    old, new = list(iter_frames(stored, stored.suffix)), list(iter_frames(fresh, stored.suffix))
    if len(old) != len(new):
        return None
    diffs = [_max_difference(a, b) for a, b in zip(old, new, strict=True)]
    return None if None in diffs else max(diffs, default=0)


def _max_difference(stored: Image.Image, fresh: Image.Image) -> int | None:
    if stored.size != fresh.size or stored.mode != fresh.mode:
        return None
    if stored.tobytes() == fresh.tobytes():
        return 0
    extrema = ImageChops.difference(stored.convert("RGB"), fresh.convert("RGB")).getextrema()
    return max(high for _, high in extrema)


def _recorded_metadata(stored_path: Path) -> dict[str, Any]:
    try:
        return json.loads(stored_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _explain(recorded: Mapping[str, Any], fresh: Mapping[str, Any]) -> str:
    """What differs between the run's environment and this one, or that nothing does (then it is a bug)."""
    batch = recorded.get("batch")
    if batch:  # verify makes one image per call
        return (
            f"made in a batch of {batch['size']} (run.batch_size), re-made alone: batched pixels can differ from a "
            "single call's by 1 level; compare with --tolerance 1"
        )
    differences = [f"{key} {recorded.get(key, 'not recorded')} -> {fresh.get(key)}"
                   for key in ("device", "dtype", "threads") if recorded.get(key) != fresh.get(key)]  # fmt: skip
    old, new = recorded.get("versions", {}), fresh.get("versions", {})
    differences += [f"{name} {old.get(name)} -> {new.get(name)}" for name in sorted(set(old) | set(new))
                    if old.get(name) != new.get(name)]  # fmt: skip
    if differences:
        return "environment differs (" + "; ".join(differences) + "): may explain it, not necessarily a bug"
    return (
        "nothing recorded differs (device, dtype, threads, versions): the stored file changed, or the output "
        "is not reproducible"
    )


def _environment(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "threads": _threads(),
        **{key: metadata[key] for key in ENVIRONMENT_KEYS if key in metadata},
    }


def _threads() -> int | None:
    torch = sys.modules.get("torch")  # loaded by the backend, if it uses torch; never imported here
    return int(torch.get_num_threads()) if torch is not None else None


def table(checks: list[Check]) -> Iterator[str]:
    """The checks as text lines: one per job, then a summary."""
    yield f"{'job_id':<22} {'result':<9} {'max diff':>8}  note"
    for check in checks:
        diff = "-" if check.max_diff is None else str(check.max_diff)
        yield f"{check.job_id:<22} {'ok' if check.ok else 'MISMATCH':<9} {diff:>8}  {check.note}"
    bad = sum(1 for check in checks if not check.ok)
    yield f"{len(checks) - bad} of {len(checks)} jobs reproduced" + (f", {bad} did not" if bad else "")
