"""Runner overhead: ``abstractvision run`` vs a hand-written diffusers loop over the same tiny-sd jobs.

Both run in a fresh interpreter on the same machine, one after the other, twice (interleaved), and
the best time of each is compared. The hand-written loop loads the pipeline once and saves one PNG per
seed; the runner also composes the config, plans, keeps the manifest, writes provenance chunks and
sidecars atomically. Target: <= 1.05x. Not a test: ``python bench/bench_runner_overhead.py [JOBS] [DEVICE]``
(DEVICE: cpu, the default, or cuda; both sides use it, in float32).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HAND_LOOP = """
import sys, torch
from pathlib import Path
from diffusers import StableDiffusionPipeline
from abstractvision.builtin import ensure_builtin
jobs, out, device = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
out.mkdir(parents=True)
pipe = StableDiffusionPipeline.from_pretrained(ensure_builtin("tiny-sd"), safety_checker=None).to(device)
pipe.set_progress_bar_config(disable=True)
for seed in range(jobs):
    generator = torch.Generator("cpu").manual_seed(seed)
    image = pipe("a red fox", width=64, height=64, num_inference_steps=4, guidance_scale=7.5,
                 generator=generator).images[0]
    image.save(out / f"{seed}.png")
"""


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main(jobs: int, device: str) -> None:
    hand, runner = [], []
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        subprocess.run([sys.executable, "-c", "from abstractvision.builtin import ensure_builtin as e; "
                        "e('tiny-sd')"], check=True)  # fmt: skip
        for attempt in range(2):
            hand.append(timed([sys.executable, "-c", HAND_LOOP, str(jobs), f"hand{attempt}", device], cwd))
            runner.append(timed([sys.executable, "-m", "abstractvision.cli", "run", "prompt=a red fox",
                                 f"seed=range(0,{jobs})", f"run.dir=run{attempt}", "run.progress=false",
                                 f"backend.device={device}", "backend.dtype=float32"], cwd))  # fmt: skip
            print(f"round {attempt + 1}: hand-written loop {hand[-1]:.1f} s, abstractvision run {runner[-1]:.1f} s")
    print(
        f"{jobs} tiny-sd jobs on {device}: best hand-written {min(hand):.1f} s, best runner {min(runner):.1f} s, "
        f"ratio {min(runner) / min(hand):.3f}x (target <= 1.05x)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, sys.argv[2] if len(sys.argv) > 2 else "cpu")
