"""Runner overhead: ``abstractvision run`` vs a hand-written diffusers loop over the same tiny-sd jobs.

Both run in a fresh interpreter on the same machine, interleaved (hand, runner, hand, runner, ...),
and the medians are compared. The hand-written loop (``hand_loop.py``) loads the pipeline once and
saves one PNG per seed; the runner also composes the config, plans, keeps the manifest, writes
provenance chunks and sidecars atomically. Target: <= 1.03x. Not a test:
``python bench/bench_runner_overhead.py [JOBS] [DEVICE] [ROUNDS]`` (DEVICE: cpu, the default, or cuda;
both sides use it, in float32). ``python -m bench --only runner-overhead`` runs it in the harness.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

HAND_LOOP = Path(__file__).with_name("hand_loop.py")
PROMPT = "a red fox"


def hand_loop_command(
    model: Path, seeds: int, out: Path, size: int = 64, steps: int = 4, device: str = "cpu"
) -> list[str]:
    """The hand-written loop over seeds 0..seeds-1 (``hand_loop.py``)."""
    return [sys.executable, str(HAND_LOOP), str(model), str(seeds), str(out), str(size), str(size), str(steps), device]


def runner_command(model: list[str], seeds: int, run_dir: Path, size: int = 64, steps: int = 4,
                   device: str = "cpu") -> list[str]:  # fmt: skip
    """``abstractvision run`` over the same jobs as ``hand_loop_command``; ``model`` holds the model overrides."""
    return [sys.executable, "-m", "abstractvision.cli", "run", *model, f"prompt={PROMPT}", f"seed=range(0,{seeds})",
            f"width={size}", f"height={size}", f"steps={steps}", "guidance_scale=7.5", f"run.dir={run_dir}",
            "run.progress=false", f"backend.device={device}", "backend.dtype=float32"]  # fmt: skip


def timed(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def compare(
    jobs: int, device: str, rounds: int, env: Mapping[str, str] | None = None
) -> tuple[list[float], list[float]]:
    """Seconds of the hand loop and of the runner over ``jobs`` tiny-sd jobs, ``rounds`` times each, interleaved."""
    from abstractvision.builtin import ensure_builtin

    model = ensure_builtin("tiny-sd")
    hand, runner = [], []
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        for attempt in range(rounds):
            hand.append(timed(hand_loop_command(model, jobs, cwd / f"hand{attempt}", device=device), cwd, env))
            runner.append(
                timed(runner_command(["model=tiny-sd"], jobs, cwd / f"run{attempt}", device=device), cwd, env)
            )
            print(f"round {attempt + 1}: hand-written loop {hand[-1]:.1f} s, abstractvision run {runner[-1]:.1f} s")
    return hand, runner


def main(jobs: int, device: str, rounds: int) -> None:
    hand, runner = compare(jobs, device, rounds)
    hand_s, runner_s = statistics.median(hand), statistics.median(runner)
    print(
        f"{jobs} tiny-sd jobs on {device}: median hand-written {hand_s:.1f} s, median runner {runner_s:.1f} s, "
        f"ratio {runner_s / hand_s:.3f}x (target <= 1.03x)"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 200, args[1] if len(args) > 1 else "cpu", int(args[2]) if len(args) > 2 else 3)
