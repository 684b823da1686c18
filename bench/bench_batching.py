"""The runner with batching (``run.batch_size``) vs the hand loop's one image per call, on tiny-sd.

A slot until the runner has the setting: ``batching_available`` asks the config itself (a dry compose
with ``run.batch_size``), so the harness reports "not available" rather than a figure it cannot
measure. The runner without batching runs in the same rounds. Targets: the batched runner >= 1.10x faster
than the hand loop, the unbatched one <= 1.03x slower. ``python -m bench --only runner-batching``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import models
from .bench_runner_overhead import hand_loop_command, runner_command
from .harness import Figure, Row, Settings, Target, Unavailable

BATCH_SIZE = 4
TARGET = Target(">=", 1.1)
UNBATCHED_TARGET = Target("<=", 1.03)


def batching_available() -> bool:
    """Whether the config accepts ``run.batch_size`` (composed, not guessed from the code)."""
    from abstractvision.errors import AbstractVisionError
    from abstractvision.pipeline.compose import load_run_config

    try:
        load_run_config([f"run.batch_size={BATCH_SIZE}", "run.dry_run=true"])
    except AbstractVisionError:
        return False
    return True


def runner_batching(settings: Settings) -> list[Row]:
    """The hand loop, the runner without batching and the runner with it, in the same interleaved rounds."""
    subject = f"abstractvision run, run.batch_size={BATCH_SIZE}"
    if not batching_available():
        return [Unavailable("runner-batching", subject, "not available: run.batch_size not implemented", TARGET)]
    jobs, model = (30 if settings.quick else 200), models.tiny_sd()
    unbatched = "abstractvision run (no batching)"
    seconds = settings.processes(
        {
            "hand loop": lambda out: hand_loop_command(model, jobs, out),
            unbatched: lambda out: runner_command(["model=tiny-sd"], jobs, out),
            subject: lambda out: [*runner_command(["model=tiny-sd"], jobs, out), f"run.batch_size={BATCH_SIZE}"],
        },
        settings.folder("runner-batching"),
        pngs=jobs,
    )
    hand, runner, batched = (tuple(seconds[name]) for name in ("hand loop", unbatched, subject))
    note = f"{jobs} tiny-sd jobs, 64x64, 4 steps, whole processes" + (" (--quick)" if settings.quick else "")
    engine = engine_ceiling(settings)
    engine_note = (
        f"the pipeline alone, in one process, per-image seconds over {4 * BATCH_SIZE} seeds: the ceiling of the "
        "runner's gain"
    )
    return [
        Figure("runner-batching", "hand loop", subject, hand, batched, TARGET, note),
        Figure("runner-batching", unbatched, "hand loop", runner, hand, UNBATCHED_TARGET, note),
        Figure(
            "runner-batching",
            "engine: 1 image per call",
            f"engine: {BATCH_SIZE} images per call",
            tuple(engine["single"]),
            tuple(engine["batched"]),
            None,
            engine_note,
        ),
    ]


def engine_ceiling(settings: Settings) -> dict[str, list[float]]:
    """``engine_batching.py``'s per-image seconds, single calls and batched, in the harness's environment."""
    script = Path(__file__).with_name("engine_batching.py")
    command = [sys.executable, str(script), str(settings.rounds), str(BATCH_SIZE)]
    done = subprocess.run(command, env=settings.env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])
