"""``abstractvision verify RUN_DIR [--sample N] [--tolerance T]``: re-run a sample of jobs and compare."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="re-run a sample of a run's done jobs and compare them with the stored files",
        description="Re-execute a sample of the done jobs of RUN_DIR with their recorded config, compare the "
        "pixels with the stored files (exactly, or within --tolerance), print a table, record the verification "
        "(machine, library versions, threads) in the manifest, and exit 1 on any mismatch.",
    )
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--sample", type=int, default=8, help="how many done jobs to re-run (default: 8)")
    parser.add_argument("--tolerance", type=int, default=0, help="largest pixel difference allowed (default: 0)")
    parser.add_argument(
        "--backend-option", action="append", default=[], metavar="KEY=VALUE",
        help="a backend option the manifest redacted (api_key_env=..., never stored), or a placement option to "
        "re-run with (device=cuda, threads=2: they never change a job id)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    from ..outputs.export import parse_where
    from ..outputs.verify import table, verify_run

    options = parse_where(args.backend_option, "--backend-option")  # typed like csv cells: threads=2 is a number
    checks = verify_run(args.run_dir, sample=args.sample, tolerance=args.tolerance, secrets=options,
                        progress=not args.no_progress)  # fmt: skip
    for line in table(checks):
        print(line)
    return 0 if all(check.ok for check in checks) else 1
