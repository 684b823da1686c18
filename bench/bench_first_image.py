"""Time to first image: ``abstractvision run`` with one tiny-sd job vs the hand loop making one image.

Both are whole processes (interpreter start, imports, load, one 64x64 image, one file), interleaved.
Target: <= 1.2x. ``python -m bench --only first-image``.
"""

from __future__ import annotations

from . import models
from .bench_runner_overhead import hand_loop_command, runner_command
from .harness import Figure, Row, Settings, Target


def first_image(settings: Settings) -> list[Row]:
    model = models.tiny_sd()
    seconds = settings.processes(
        {
            "abstractvision run": lambda out: runner_command(["model=tiny-sd"], 1, out),
            "hand loop": lambda out: hand_loop_command(model, 1, out),
        },
        settings.folder("first-image"),
        pngs=1,
    )
    subject, baseline = (tuple(seconds[name]) for name in ("abstractvision run", "hand loop"))
    note = "one job, tiny-sd 64x64, 4 steps, whole processes"
    return [Figure("first-image", "abstractvision run", "hand loop", subject, baseline, Target("<=", 1.2), note)]
