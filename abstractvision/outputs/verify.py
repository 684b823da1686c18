"""``verify``: re-run a sample of a run's done jobs with their recorded config and compare the pixels.

The stored PNG carries text chunks (parameters, the job record) that a fresh asset does not, so the
comparison is of decoded pixels: exact by default, or a maximum difference per channel (``tolerance``).
The sample is the done jobs with the smallest ids (ids are hashes: uniform, and the same every time).
Each verification is recorded in the manifest with where it ran: machine, library versions, threads.
A mismatch is reported with what differs between the run's environment and this one (device, dtype,
library versions), because on CPU a thread count or a library version can move pixels by a few levels
without any bug (docs/review.md).
"""

from __future__ import annotations

import io
import json
import os
import platform
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops
from tqdm.auto import tqdm

from ..errors import InvalidParameterError
from ..pipeline.recorded_groups import recorded_group
from ..pipeline.run_dir import RunDir
from ..pipeline.worker import JobFailed, JobSpec, Worker

ENVIRONMENT_KEYS = ("device", "dtype", "versions")


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
    stored_path = run_dir / record["output"]
    try:
        assets = worker(job).assets
    except JobFailed as exc:
        return Check(job.job_id, False, None, f"re-running failed: {exc.error}"), {}
    fresh = assets[0]
    try:
        with Image.open(stored_path) as stored_image, Image.open(io.BytesIO(fresh.data)) as fresh_image:
            diff = _max_difference(stored_image, fresh_image)
    except OSError as exc:
        return Check(job.job_id, False, None, f"stored file unreadable: {exc}"), dict(fresh.metadata)
    if diff is None:
        return Check(job.job_id, False, None, "sizes or modes differ"), dict(fresh.metadata)
    ok = diff <= tolerance
    note = "" if ok else _explain(_recorded_metadata(stored_path), fresh.metadata)
    return Check(job.job_id, ok, diff, note), dict(fresh.metadata)


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
    differences = [f"{key} {recorded.get(key)} -> {fresh.get(key)}" for key in ("device", "dtype")
                   if recorded.get(key) != fresh.get(key)]  # fmt: skip
    old, new = recorded.get("versions", {}), fresh.get("versions", {})
    differences += [f"{name} {old.get(name)} -> {new.get(name)}" for name in sorted(set(old) | set(new))
                    if old.get(name) != new.get(name)]  # fmt: skip
    if differences:
        return "environment differs (" + "; ".join(differences) + "): may explain it"
    return (
        f"same device, dtype and versions; threads now {_threads()} (the run did not record its own): a thread "
        "count can move CPU pixels, otherwise the file changed or the output is not reproducible"
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
