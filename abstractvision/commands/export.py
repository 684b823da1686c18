"""``abstractvision export RUN_DIR --format F --out DIR``: a run's outputs as a dataset (see docs/datasets.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import add_where

FORMAT_NAMES = ("imagefolder", "parquet", "webdataset", "captions")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a run's outputs as a dataset (imagefolder, parquet, webdataset, captions)",
        description="Write the outputs of RUN_DIR with their prompts, parameters, seeds and labels in a dataset "
        "layout, from the manifest alone (nothing is generated again).",
    )
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--format", required=True, choices=FORMAT_NAMES, help="the dataset layout")
    parser.add_argument("--out", required=True, type=Path, help="the folder to write (must be new or empty)")
    parser.add_argument("--status", default="done", help="export jobs with this status (default: done)")
    add_where(parser)
    parser.add_argument("--shard-size", type=int, default=1000, help="samples per parquet/tar file (default: 1000)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=export)


def export(args: argparse.Namespace) -> int:
    from ..outputs.export import export_run, parse_where

    summary = export_run(
        args.run_dir, args.format, args.out, status=args.status, where=parse_where(args.where),
        shard_size=args.shard_size, overwrite=args.overwrite, progress=not args.no_progress,
    )  # fmt: skip
    print(f"exported {summary.files} files of {summary.jobs} jobs to {summary.out} ({args.format})")
    return 0
