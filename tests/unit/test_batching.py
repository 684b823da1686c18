"""Batching's bookkeeping: which jobs share an engine call, and a failed batch call handled job by job.

The backend here is a stand-in that records its calls (the runner's bookkeeping is what is tested); that real
batches equal single calls is tested on tiny-sd in ``tests/integration/test_run_batching.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from abstractvision.backends.base_backend import VisionBackend
from abstractvision.errors import GenerationError, InvalidParameterError, ModelLoadError
from abstractvision.pipeline.batching import batches
from abstractvision.pipeline.config import RunSettings
from abstractvision.pipeline.worker import GroupDescription, JobFailed, JobResult, JobSpec, Worker
from abstractvision.registry import resolve_model
from abstractvision.types import GeneratedAsset, ImageGenerationRequest, VisionBackendCapabilities


class RecordingBackend(VisionBackend):
    """Batches consecutive seeds only (as stable-diffusion.cpp does); fails batch calls with ``batch_error``."""

    name = "recording"

    def __init__(self, batch_error: Exception | None = None) -> None:
        self.calls: list[list[int | None]] = []
        self.batch_error = batch_error

    def get_capabilities(self) -> VisionBackendCapabilities:
        return VisionBackendCapabilities(supported_tasks=("text_to_image",))

    def can_batch(self, task: str, seeds: Sequence[int | None]) -> bool:
        return all(b == a + 1 for a, b in itertools.pairwise(seeds))  # type: ignore[operator]

    def generate_batch(self, requests: Sequence[ImageGenerationRequest], **_: Any) -> list[GeneratedAsset]:
        self.calls.append([r.seed for r in requests])
        if self.batch_error is not None and len(requests) > 1:
            raise self.batch_error
        return [GeneratedAsset("image", b"", "image/png", {"seed": r.seed}) for r in requests]

    def generate_image(self, request: ImageGenerationRequest, **_: Any) -> GeneratedAsset:
        return self.generate_batch([request])[0]


def job(seed: int, prompt: str = "a fox") -> JobSpec:
    identity = {"backend": "recording", "model": "tiny-sd", "task": "text_to_image", "seed": seed,
                "params": {"prompt": prompt, "width": 64, "height": 64, "steps": 2, "guidance_scale": 7.5}}  # fmt: skip
    return JobSpec(f"job{seed}-{prompt}", "g", "text_to_image", identity)


def worker(backend: RecordingBackend) -> Worker:
    group = GroupDescription("g", "recording", resolve_model("tiny-sd"), {}, {})
    return Worker(group, retries=1, retry_delay_s=0, backend=backend)


def test_batches_hold_consecutive_jobs_that_fit_together_in_order() -> None:
    runs = [[0, 1, 2], [5, 6], [9]]
    consecutive = [n for run in runs for n in run]
    assert list(batches(consecutive, 2, lambda b: b[-1] == b[-2] + 1)) == [[0, 1], [2], [5, 6], [9]]
    assert list(batches(consecutive, 8, lambda b: b[-1] == b[-2] + 1)) == runs
    assert list(batches([], 4, lambda b: True)) == []


def test_only_jobs_alike_but_for_their_seed_are_batchable() -> None:
    w = worker(RecordingBackend())
    assert w.batchable([job(0), job(1), job(2)])
    assert not w.batchable([job(0), job(2)])  # this backend: consecutive seeds only
    assert not w.batchable([job(0), job(1, prompt="a hare")])


def test_a_batch_is_one_call_and_each_job_gets_its_own_result() -> None:
    backend = RecordingBackend()
    outcomes = worker(backend).run_batch([job(3), job(4), job(5)])
    assert backend.calls == [[3, 4, 5]]
    assert all(isinstance(o, JobResult) and o.attempts == 1 for o in outcomes)
    assert [o.assets[0].metadata["seed"] for o in outcomes] == [3, 4, 5]


def test_a_failed_batch_runs_its_jobs_one_by_one_counting_the_batch_as_an_attempt() -> None:
    backend = RecordingBackend(GenerationError("out of memory for 3 images"))
    outcomes = worker(backend).run_batch([job(3), job(4), job(5)])
    assert backend.calls == [[3, 4, 5], [3], [4], [5]]
    assert [type(o) for o in outcomes] == [JobResult] * 3 and [o.attempts for o in outcomes] == [2, 2, 2]


def test_a_batch_failing_for_its_whole_group_fails_each_job_without_retrying() -> None:
    backend = RecordingBackend(ModelLoadError("the weights are corrupt"))
    outcomes = worker(backend).run_batch([job(3), job(4)])
    assert backend.calls == [[3, 4]]
    assert all(isinstance(o, JobFailed) and isinstance(o.error, ModelLoadError) for o in outcomes)


@pytest.mark.parametrize(
    ("values", "message"),
    [({"batch_size": 0}, "must be an integer >= 1"), ({"batch_size": 4, "executor": "ray"}, "local executor only")],
)
def test_bad_batch_settings_fail_naming_the_field(values: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=rf"run\.batch_size.*{message}"):
        RunSettings.from_mapping(values)
