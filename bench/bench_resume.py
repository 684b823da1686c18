"""Resume of a finished run (100,000 jobs by default): nothing left to do, every output's SHA-256 checked.

The run is first completed through the real runner with a stand-in backend that writes small PNGs
(generating 100,000 tiny-sd images would take hours and is not what is measured). Then the real CLI
is timed re-running the identical command, interleaved with a baseline: a fresh interpreter that
imports the package and hashes the same files (the unavoidable part). Target: < 5 s for 100,000 jobs.
Not a test: ``python bench/bench_resume.py [JOBS] [ROUNDS]``.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

JOBS = 100_000
BASELINE = (
    "import abstractvision, hashlib, pathlib, sys; "
    "[hashlib.sha256(p.read_bytes()).hexdigest() for p in pathlib.Path(sys.argv[1]).glob('*.png')]"
)


def overrides(jobs: int) -> list[str]:
    return [f"seed=range(0,{jobs})", "run.dir=runs/resume", "run.progress=false"]


def finish_run(cwd: Path, jobs: int) -> None:
    import os

    from PIL import Image

    from abstractvision.backends.base_backend import VisionBackend
    from abstractvision.media.png import encode_png
    from abstractvision.pipeline.compose import load_run_config
    from abstractvision.pipeline.runner import Runner
    from abstractvision.pipeline.worker import Worker
    from abstractvision.types import GeneratedAsset, VisionBackendCapabilities

    class FlatBackend(VisionBackend):
        name = "diffusers"

        def get_capabilities(self) -> VisionBackendCapabilities:
            return VisionBackendCapabilities(supported_tasks=("text_to_image",))

        def generate_image(self, request, *, progress=None):  # type: ignore[no-untyped-def]
            metadata = {"backend": self.name, "model": "tiny-sd", "seed": request.seed, "params": {}}
            data = encode_png(Image.new("RGB", (64, 64), request.seed % 256), metadata)
            return GeneratedAsset("image", data, "image/png", metadata)

    os.chdir(cwd)
    config = load_run_config(overrides(jobs))
    summary = Runner(config, worker_factory=lambda group: Worker(group, backend=FlatBackend()), out=io.StringIO()).run()
    assert summary.done == jobs, summary


def timed(command: list[str], cwd: Path, env: Mapping[str, str] | None) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def interleaved(jobs: int, rounds: int, env: Mapping[str, str] | None = None) -> tuple[list[float], list[float]]:
    """Seconds of the baseline and of the resume, ``rounds`` times each, interleaved, on one finished run."""
    baseline, resume = [], []
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        subprocess.run([sys.executable, __file__, "prepare", folder, str(jobs)], check=True, env=env)
        for _ in range(rounds):
            baseline.append(timed([sys.executable, "-c", BASELINE, str(cwd / "runs/resume/outputs")], cwd, env)[0])
            seconds, stdout = timed([sys.executable, "-m", "abstractvision.cli", "run", *overrides(jobs)], cwd, env)
            assert f"{jobs} jobs: 0 done now, {jobs} already done" in stdout, stdout
            resume.append(seconds)
    return baseline, resume


def main(jobs: int, rounds: int) -> None:
    baseline, resume = interleaved(jobs, rounds)
    base_s, resume_s = statistics.median(baseline), statistics.median(resume)
    print(f"baseline (import + sha256 of {jobs} files): median {base_s:.2f} s")
    print(
        f"abstractvision run (resume, nothing to do):  median {resume_s:.2f} s (target < 5 s), {resume_s / base_s:.2f}x"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        finish_run(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else JOBS, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
