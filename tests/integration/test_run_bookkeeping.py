"""The runner's bookkeeping on a real run folder and SQLite file, with an in-test backend.

The backend below is a stand-in (it draws a flat PNG and can fail on demand), so these tests prove the
runner's retries, failure handling, concurrency and single-writer manifest, never that a backend works:
the real tiny-sd runs are in test_run_cli.py and test_run_resume.py.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from run_helpers import assert_complete, jobs

from abstractvision.backends.base_backend import VisionBackend
from abstractvision.errors import BackendTimeoutError, GenerationError
from abstractvision.media.png import encode_png
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner
from abstractvision.pipeline.worker import GroupDescription, Worker
from abstractvision.types import GeneratedAsset, ImageGenerationRequest, VisionBackendCapabilities


class FlakyBackend(VisionBackend):
    name = "diffusers"

    def __init__(self, model: str, fail: dict[str, list[Exception]], delay: float = 0.0) -> None:
        self._model, self.fail, self.delay = model, fail, delay
        self.calls: list[str] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.loaded = self.unloaded = 0

    @property
    def model_name(self) -> str:
        return self._model

    def get_capabilities(self) -> VisionBackendCapabilities:
        return VisionBackendCapabilities(supported_tasks=("text_to_image",))

    def unload(self) -> None:
        self.unloaded += 1

    def generate_image(self, request: ImageGenerationRequest, *, progress=None) -> GeneratedAsset:
        with self.lock:
            self.calls.append(request.prompt)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            errors = self.fail.get(request.prompt) or []
            error = errors.pop(0) if errors else None
        try:
            time.sleep(self.delay)
            if error is not None:
                raise error
            image = Image.new("RGB", (request.width or 8, request.height or 8), (request.seed or 0) % 256)
            metadata = {"backend": self.name, "model": self._model, "seed": request.seed, "task": "text_to_image",
                        "params": {"prompt": request.prompt, "width": request.width, "height": request.height},
                        "timings": {"load_s": 0.0, "generate_s": self.delay}}  # fmt: skip
            return GeneratedAsset("image", encode_png(image, metadata), "image/png", metadata)
        finally:
            with self.lock:
                self.in_flight -= 1


def run(tmp_path: Path, backend: FlakyBackend, *overrides: str, config_dirs: tuple[Path, ...] = ()):
    config = load_run_config(
        ["run.progress=false", "run.retry_delay_s=0", f"run.dir={tmp_path / 'r'}", *overrides], config_dirs
    )

    def worker(group: GroupDescription) -> Worker:
        return Worker(group, retries=config.run.retries, retry_delay_s=0, backend=backend)

    summary = Runner(config, worker_factory=worker, out=io.StringIO()).run()
    return summary, tmp_path / "r"


def test_retryable_errors_are_retried_and_permanent_ones_recorded(tmp_path: Path) -> None:
    backend = FlakyBackend("tiny-sd", {
        "flaky": [BackendTimeoutError("slow"), BackendTimeoutError("slow")],
        "broken": [GenerationError("no good")],
        "hopeless": [BackendTimeoutError("slow")] * 5,
    })  # fmt: skip
    summary, run_dir = run(tmp_path, backend, "prompt=fine,flaky,broken,hopeless", "run.retries=2")
    assert (summary.done, summary.failed, summary.exit_code) == (2, 2, 1)
    rows = {r["params"].split('"prompt":"')[1].split('"')[0]: r for r in jobs(run_dir).values()}
    assert (rows["flaky"]["status"], rows["flaky"]["attempts"]) == ("done", 3)
    assert (rows["broken"]["status"], rows["broken"]["attempts"]) == ("failed", 1)
    assert rows["broken"]["error"] == "no good" and rows["broken"]["error_type"] == "GenerationError"
    assert (rows["hopeless"]["status"], rows["hopeless"]["attempts"]) == ("failed", 3)
    assert {f["error_type"] for f in summary.failures} == {"GenerationError", "BackendTimeoutError"}

    again, _ = run(tmp_path, backend, "prompt=fine,flaky,broken,hopeless", "run.retries=2")
    assert (again.already_done, again.done, again.failed) == (2, 2, 0)  # failed jobs are retried on resume
    assert_complete(run_dir, 4)


def test_concurrency_keeps_n_jobs_in_flight_with_one_writer(tmp_path: Path) -> None:
    backend = FlakyBackend("tiny-sd", {}, delay=0.05)
    summary, run_dir = run(tmp_path, backend, "seed=range(0,12)", "run.concurrency=3")
    assert summary.done == 12 and summary.exit_code == 0
    assert backend.max_in_flight == 3
    assert_complete(run_dir, 12)


def test_each_backend_group_is_used_then_unloaded_once(tmp_path: Path) -> None:
    backend = FlakyBackend("tiny-sd", {})
    summary, _ = run(tmp_path, backend, "model=tiny-sd,tiny-sd-alt", "seed=0,1,2")
    assert summary.done == 6 and backend.unloaded == 2


def test_unsupported_task_is_refused_before_the_run_folder_exists(tmp_path: Path) -> None:
    from abstractvision.errors import CapabilityNotSupportedError

    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "remote-video.yaml").write_text(
        "name: remote-video\nsource: remote-video\ntasks: [text_to_video]\n"
    )
    server = ["backend=openai", "backend.base_url=http://127.0.0.1:9/v1", "model=remote-video", "task=text_to_video"]
    with pytest.raises(CapabilityNotSupportedError, match="does not support task 'text_to_video'"):
        run(tmp_path, FlakyBackend("remote-video", {}), *server, config_dirs=(tmp_path / "conf",))
    assert not (tmp_path / "r").exists()
