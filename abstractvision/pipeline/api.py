"""Runs from Python: ``plan`` and ``run`` take the CLI's override strings (or a composed ``RunConfig``).

``abstractvision run A B`` and ``abstractvision.run(["A", "B"])`` are the same run: the same config
search order (``./conf``, then ``config_dirs``, then the package), the same quickstart default when
only ``run.*`` settings are given, the same ids, seeds, folder and bytes. Bad input raises the
project's exceptions (never ``SystemExit``) before any model loads.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidParameterError
from .config import RunConfig
from .preview import RunPlan
from .results import RunResult

if TYPE_CHECKING:
    from .runner import RunSummary

Overrides = Sequence[str] | RunConfig
QUICKSTART = "+experiment=quickstart"


def compose(overrides: Overrides, *, config_dirs: Sequence[str | Path] = ()) -> RunConfig:
    """The ``RunConfig`` of ``overrides`` (Hydra syntax, as on the command line); a ``RunConfig`` is
    returned as is. Without any override other than ``run.*`` settings, the quickstart experiment."""
    if isinstance(overrides, RunConfig):
        if config_dirs:
            raise InvalidParameterError("config_dirs", "applies to override strings; this config is composed")
        return overrides
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        raise InvalidParameterError(
            "overrides", f"must be a list of strings such as ['model=tiny-sd', 'seed=range(0,4)'], got {overrides!r}"
        )
    from ..config_dirs import user_config_dirs
    from .compose import load_run_config

    overrides = list(overrides)
    if all(o.lstrip("+~").startswith("run.") for o in overrides):
        overrides.insert(0, QUICKSTART)
    return load_run_config(overrides, user_config_dirs(config_dirs))


def plan(overrides: Overrides, *, config_dirs: Sequence[str | Path] = (), sample: int | None = None) -> RunPlan:
    """What ``run(overrides)`` would do: distinct job count, backend groups, ``sample`` jobs (default
    ``run.sample``) and the run folder. Everything is checked; nothing is loaded or written."""
    from .plan import Plan

    config = compose(overrides, config_dirs=config_dirs)
    return RunPlan.of(Plan(config), config.run_dir(), config.run.sample if sample is None else sample)


def run(
    overrides: Overrides,
    *,
    config_dirs: Sequence[str | Path] = (),
    run_dir: str | Path | None = None,
    progress: bool | None = None,
) -> RunResult:
    """Run (or resume) the jobs of ``overrides`` and return their results.

    ``run_dir`` and ``progress`` replace ``run.dir`` and ``run.progress`` (``None``: as configured). The
    first Ctrl-C finishes the current job and returns a result with ``interrupted`` set; the same call
    again resumes. A second Ctrl-C raises ``KeyboardInterrupt`` at once; the run still resumes.
    """
    config = compose(overrides, config_dirs=config_dirs)
    settings = config.run
    if run_dir is not None:
        settings = dataclasses.replace(settings, dir=str(run_dir))
    if progress is not None:
        settings = dataclasses.replace(settings, progress=progress)
    if settings.dry_run:
        raise InvalidParameterError("run.dry_run", "abstractvision.run() runs jobs; call abstractvision.plan() instead")
    config = dataclasses.replace(config, run=settings)
    summary = execute(config, [] if isinstance(overrides, RunConfig) else list(overrides))
    result = RunResult(summary.run_dir, plan=_latest_plan(summary.run_dir), summary=summary)
    if summary.interrupted:
        print(repr(result), file=sys.stderr)
    return result


def execute(config: RunConfig, overrides: Sequence[str]) -> RunSummary:
    """Run ``config`` and record ``overrides`` as the command in the manifest (the CLI's path too)."""
    from .runner import Runner

    return Runner(config, argv=["run", *overrides]).run()


def _latest_plan(run_dir: Path) -> int | None:
    from .run_dir import RunDir

    manifest = RunDir(run_dir).open_readonly()
    try:
        return manifest.latest_plan()
    finally:
        manifest.close()
