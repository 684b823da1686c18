"""Naive Hydra multirun vs ``abstractvision run`` vs the hand loop, on the same sweep of seeds.

The naive way is how users sweep today: a small ``@hydra.main`` app (``naive_hydra/app.py``) whose task
function loads the diffusers pipeline and makes one image, run with ``-m seed=range(0,N)`` under Hydra's
basic launcher and under the joblib launcher (2 workers). Every contender is one whole process, with
the same model, size, steps, seeds and thread count. ``python -m bench --only multirun``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import models
from .bench_runner_overhead import hand_loop_command, runner_command
from .harness import Figure, Row, Settings, Target, Unavailable

NAIVE_APP = Path(__file__).with_name("naive_hydra") / "app.py"
HAND, RUNNER, BASIC, JOBLIB = "hand loop", "abstractvision run", "naive multirun (basic)", "naive multirun (joblib x2)"


@dataclass(frozen=True)
class Sweep:
    name: str
    folder: Path
    runner_model: list[str]
    seeds: int
    size: int
    steps: int
    target: Target


def naive_command(sweep: Sweep, out: Path, launcher: str) -> list[str]:
    size = [f"width={sweep.size}", f"height={sweep.size}", f"steps={sweep.steps}"]
    command = [sys.executable, str(NAIVE_APP), "-m", f"model={sweep.folder}", f"seed=range(0,{sweep.seeds})", *size]
    command.append(f"hydra.sweep.dir={out}")
    if launcher == "joblib":
        command += ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    return command


def commands(sweep: Sweep) -> dict[str, Callable[[Path], list[str]]]:
    return {
        HAND: lambda out: hand_loop_command(sweep.folder, sweep.seeds, out, sweep.size, sweep.steps),
        RUNNER: lambda out: runner_command(sweep.runner_model, sweep.seeds, out, sweep.size, sweep.steps),
        BASIC: lambda out: naive_command(sweep, out, "basic"),
        JOBLIB: lambda out: naive_command(sweep, out, "joblib"),
    }


def compare(settings: Settings, sweep: Sweep) -> list[Row]:
    seconds = settings.processes(commands(sweep), settings.folder(f"multirun-{sweep.name}"), pngs=sweep.seeds)
    bench = f"multirun-{sweep.name}"
    note = f"{sweep.seeds} seeds, {sweep.size}x{sweep.size}, {sweep.steps} steps"
    if settings.quick:  # start-up, paid once by every contender, weighs more against fewer reloads
        note += " (--quick: fewer seeds than the full run, so smaller ratios)"

    def figure(subject: str, baseline: str, target: Target | None = None) -> Figure:
        return Figure(bench, subject, baseline, tuple(seconds[subject]), tuple(seconds[baseline]), target, note)

    return [
        figure(BASIC, RUNNER, sweep.target),
        figure(JOBLIB, RUNNER, sweep.target),
        figure(RUNNER, HAND),
        figure(BASIC, HAND),
    ]


def tiny_sd(settings: Settings) -> list[Row]:
    seeds = 8 if settings.quick else 40
    return compare(settings, Sweep("tiny-sd", models.tiny_sd(), ["model=tiny-sd"], seeds, 64, 4, Target(">=", 1.3)))


def sd1_model(folder: Path) -> list[str]:
    """The runner's overrides for the sd1-layout weights as a diffusers pipeline folder (the shipped config is
    the sdcpp one)."""
    return ["model=sd1-layout", f"model.source={folder}", "model.backends=[diffusers]"]


def sd1(settings: Settings) -> list[Row]:
    """Not with --quick: a few seeds take two minutes and say little (start-up outweighs the reloads)."""
    if settings.quick:
        return [Unavailable("multirun-sd1-layout", BASIC, "not run with --quick (about 6 minutes): run without it")]
    folder = models.sd1_pipeline()
    return compare(settings, Sweep("sd1-layout", folder, sd1_model(folder), 20, 64, 2, Target(">=", 2.5)))
