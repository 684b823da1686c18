"""``abstractvision status RUN_DIR [--json]``: what a run has done, read from its manifest."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .run import QUARANTINE_ADVICE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="summarise a run folder (counts, failures, throughput)")
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    parser.add_argument("--export-jsonl", type=Path, metavar="FILE", help="also write every job as JSON lines")
    parser.set_defaults(func=status)


def status(args: argparse.Namespace) -> int:
    from ..pipeline.run_dir import RunDir

    manifest = RunDir(args.run_dir).open_readonly()
    try:
        report = {"run_dir": str(args.run_dir), **manifest.counts(), **manifest.throughput()}
        report["failures"] = manifest.failures()
        report["quarantined"] = manifest.quarantined()
        if args.export_jsonl:
            report["exported"] = manifest.export_jsonl(args.export_jsonl)
    finally:
        manifest.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def print_report(report: dict) -> None:
    print(f"run dir: {report['run_dir']}")
    print(
        f"jobs: {report['total']} total, {report['done']} done, {report['failed']} failed, "
        f"{report['pending']} pending, {report['running']} running"
    )
    if report["jobs_per_s"]:
        print(
            f"throughput: {report['jobs_per_s']:.2f} jobs/s over {report['elapsed_s']:.1f} s "
            f"(mean {report['mean_job_s']:.2f} s per job)"
        )
    for failure in report["failures"]:
        print(
            f"  failed {failure['job_id']} ({failure['attempts']} attempts): "
            f"{failure['error_type']}: {failure['error']}"
        )
    if report["quarantined"]:
        print(f"{len(report['quarantined'])} of the failed job(s) quarantined, interrupted {QUARANTINE_ADVICE}")
    if "exported" in report:
        print(f"exported {report['exported']} jobs")
