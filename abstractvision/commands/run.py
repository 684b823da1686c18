"""``abstractvision run [overrides]``: compose the config, expand the sweep, run (or resume) it.

A thin shell over ``pipeline/api.py`` (``abstractvision.run`` from Python is the same run). The command
parses Hydra's override syntax itself and composes with Hydra's compose API (not
``hydra.main``), once per combination of config-group options; ``--help``, ``--cfg job``,
``--config-dir`` and ``-m`` behave as Hydra users expect, and ``./conf`` is searched first with no flag.
Without any override other than ``run.*`` settings it runs ``+experiment=quickstart``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidParameterError, JobInterruptedError

if TYPE_CHECKING:
    from ..pipeline.config import RunConfig
    from ..pipeline.runner import RunSummary

QUARANTINE_ADVICE = f"run.max_interrupts times: {JobInterruptedError.advice}"
_HELP_GROUPS = ("backend", "model", "task", "sweep", "run", "experiment")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        add_help=False,
        help="run a sweep of jobs from Hydra configs and overrides (resumable)",
        description="Run the jobs described by the config and KEY=VALUE overrides, e.g. "
        "abstractvision run prompt='a red fox' 'seed=range(0,4)' guidance_scale=5,7.5",
    )
    parser.add_argument("-h", "--help", action="store_true", help="show config groups, parameters and exit")
    parser.add_argument("--cfg", choices=["job"], help="print the composed config(s) and exit")
    parser.add_argument(
        "--config-dir",
        "-cd",
        action="append",
        default=[],
        help="extra config folder (repeatable), searched after ./conf and before the shipped defaults",
    )
    parser.add_argument("-m", "--multirun", action="store_true", help="accepted for Hydra habits; sweeps always run")
    parser.set_defaults(func=run, accepts_extra=True, parser=parser)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.api import compose, execute

    overrides = list(args.extra)
    flags = [o for o in overrides if o.startswith("-")]
    if flags:
        raise InvalidParameterError(flags[0], "unknown option of `abstractvision run`; see `abstractvision run --help`")
    if args.help:
        from ..config_dirs import user_config_dirs

        print_help(args.parser, user_config_dirs(args.config_dir))
        return 0
    config = compose(overrides, config_dirs=args.config_dir)
    if args.cfg == "job":
        print_configs(config)
        return 0
    summary = execute(config, overrides)
    if not config.run.dry_run:
        print_summary(summary)
    return summary.exit_code


def print_configs(config: RunConfig) -> None:
    """Each combination's composed config, secrets (``backend.api_key``) redacted as in the manifest."""
    import yaml

    from ..pipeline.config import redact

    combinations = config.combinations
    for index, combination in enumerate(combinations):
        if len(combinations) > 1:
            choices = " ".join(f"{k}={v}" for k, v in combination.choices.items())
            print(f"# combination {index + 1}/{len(combinations)}: {choices}")
        shown = {k: redact(v) if isinstance(v, dict) else v for k, v in combination.config.items()}
        print(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True).rstrip())


def print_summary(s: RunSummary) -> None:
    rate = f", {s.done / s.elapsed_s:.2f} jobs/s" if s.done and s.elapsed_s else ""
    redone = f" ({s.redone} redone: missing or corrupt)" if s.redone else ""
    print(
        f"{s.run_dir}: {s.jobs} jobs: {s.done} done now, {s.already_done} already done{redone}, "
        f"{s.failed} failed in {s.elapsed_s:.1f} s{rate}"
    )
    for failure in s.failures:
        print(
            f"  failed {failure['job_id']} ({failure['attempts']} attempts): "
            f"{failure['error_type']}: {failure['error']}"
        )
    for group in s.stopped_groups:
        print(
            f"error: {group.model} ({group.backend}) stopped, {group.reason}: {type(group.error).__name__}: "
            f"{group.error}\n  {group.pending} job(s) left pending; {group.advice}",
            file=sys.stderr,
        )
    if s.quarantined:
        print(f"{len(s.quarantined)} job(s) skipped, interrupted {QUARANTINE_ADVICE}", file=sys.stderr)
    if s.interrupted:
        print("interrupted: run the same command again to resume", file=sys.stderr)
    for advice, count in s.advice.items():
        print(f"{count} job(s) failed: {advice}", file=sys.stderr)


def print_help(parser: argparse.ArgumentParser, config_dirs: Sequence[Path]) -> None:
    from ..pipeline.compose import group_options
    from ..pipeline.params import PARAMS

    parser.print_help()
    print("\n== Configuration groups ==\nCompose your configuration from those groups (group=option, a,b to sweep)\n")
    for group in _HELP_GROUPS:
        prefix = "+" if group == "experiment" else ""
        print(f"{prefix}{group}: {', '.join(group_options(group, config_dirs))}")
    print(f"\n== Parameters ==\n{', '.join(PARAMS)}")
    print(
        "\nSweeps: key=a,b  key=range(0,8[,step])  key=choice(a,b)  model=glob(tiny*)  sweep.zip.key=a,b  "
        "sweep.file=prompts.txt\nWithout overrides (or with run.* only) the quickstart experiment runs. "
        "Docs: docs/configuration.md, docs/sweeps.md"
    )
