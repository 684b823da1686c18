"""Resume of a finished 2,000-job run: nothing left to do, every output's SHA-256 checked.

The run is first completed through the real runner with a stand-in backend that writes small PNGs
(generating 2,000 tiny-sd images would take many minutes and is not what is measured). Then the real
CLI is timed re-running the identical command, against a baseline measured in the same run: a fresh
interpreter that imports the package and hashes the same 2,000 files (the unavoidable part).
Target: < 3 s. Not a test: ``python bench/bench_resume.py``.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOBS = 2000
OVERRIDES = [f"seed=range(0,{JOBS})", "run.dir=runs/resume", "run.progress=false"]
BASELINE = (
    "import abstractvision, hashlib, pathlib, sys; "
    "[hashlib.sha256(p.read_bytes()).hexdigest() for p in pathlib.Path(sys.argv[1]).glob('*.png')]"
)


def finish_run(cwd: Path) -> None:
    import os

    from PIL import Image

    from abstractvision.backends.base_backend import VisionBackend
    from abstractvision.media.png import encode_png
    from abstractvision.pipeline.compose import load_run_config
    from abstractvision.pipeline.runner import Runner
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
    summary = Runner(load_run_config(OVERRIDES), backend_factory=lambda *a: FlatBackend(), out=io.StringIO()).run()
    assert summary.done == JOBS, summary


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        subprocess.run([sys.executable, __file__, "prepare", folder], check=True)
        baseline, _ = timed([sys.executable, "-c", BASELINE, str(cwd / "runs/resume/outputs")], cwd)
        resume, stdout = timed([sys.executable, "-m", "abstractvision.cli", "run", *OVERRIDES], cwd)
        assert f"{JOBS} jobs: 0 done now, {JOBS} already done" in stdout, stdout
        print(f"baseline (import + sha256 of {JOBS} files): {baseline:.2f} s")
        print(f"abstractvision run (resume, nothing to do):  {resume:.2f} s (target < 3 s), {resume / baseline:.2f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        finish_run(Path(sys.argv[2]))
    else:
        main()
