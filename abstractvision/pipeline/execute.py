"""Running one job through a backend: build the request, dispatch by task, retry transient errors.

This is the part an executor runs (possibly in a worker thread): it touches neither the manifest nor
the output folder, and returns the assets or raises ``JobFailed`` with the attempts it made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backends.base_backend import VisionBackend
from ..errors import is_retryable
from ..registry import ModelSpec
from ..types import (
    IMAGE_TO_IMAGE,
    IMAGE_TO_VIDEO,
    MULTI_VIEW_IMAGE,
    TEXT_TO_IMAGE,
    TEXT_TO_VIDEO,
    GeneratedAsset,
)
from ..vision_manager import VisionManager
from .params import FILE_PARAMS, build_request


@dataclass(frozen=True)
class JobSpec:
    """A job as read back from the manifest."""

    job_id: str
    group_key: str
    task: str
    identity: Mapping[str, Any]
    inputs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobSpec:
        inputs = json.loads(row["inputs"]) if row["inputs"] else {}
        return cls(row["job_id"], row["group_key"], row["task"], json.loads(row["params"]), inputs)


class JobFailed(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error, self.attempts = error, attempts


@dataclass
class JobResult:
    assets: list[GeneratedAsset]
    attempts: int
    duration_s: float


def run_job(
    backend: VisionBackend,
    spec: ModelSpec,
    job: JobSpec,
    *,
    retries: int,
    retry_delay_s: float,
    stop: threading.Event,
    sleep: Callable[[float], None] = time.sleep,
) -> JobResult:
    """Generate ``job``'s assets, retrying retryable errors up to ``retries`` times (backing off)."""
    start = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        try:
            return JobResult(generate(backend, spec, job), attempt, time.perf_counter() - start)
        except Exception as exc:
            if not is_retryable(exc) or attempt > retries or stop.is_set():
                raise JobFailed(exc, attempt) from exc
            sleep(retry_delay_s * 2 ** (attempt - 1))


def generate(backend: VisionBackend, spec: ModelSpec, job: JobSpec) -> list[GeneratedAsset]:
    params = dict(job.identity["params"])
    files = {name: Path(job.inputs[name]).read_bytes() for name in FILE_PARAMS if name in params}
    request = VisionManager(backend, spec).prepare(
        job.task, build_request(job.task, params, job.identity["seed"], files)
    )
    method = {
        TEXT_TO_IMAGE: backend.generate_image,
        IMAGE_TO_IMAGE: backend.edit_image,
        MULTI_VIEW_IMAGE: backend.generate_angles,
        TEXT_TO_VIDEO: backend.generate_video,
        IMAGE_TO_VIDEO: backend.image_to_video,
    }[job.task]
    result = method(request)  # type: ignore[operator]
    return list(result) if isinstance(result, list) else [result]
