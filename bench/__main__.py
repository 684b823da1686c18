"""``python -m bench [--quick] [--only NAME ...] [--rounds N] [--threads N] [--out FILE]``.

Runs the selected benches (see ``suite.BENCHES``), prints each row as it comes, and writes the table
to ``bench/RESULTS.md`` (with ``--only``, only where ``--out`` says). A bench that fails is reported
in its row and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from .harness import Row, Settings, Unavailable
from .results import render
from .suite import select

RESULTS = Path(__file__).with_name("RESULTS.md")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 2 rounds (< 10 min, idle 2 cores)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="benches whose name contains NAME")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per comparison (3; --quick: 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of every process (1)")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/RESULTS.md, none with --only")
    return parser.parse_args(argv)


def warm_up(settings: Settings, names: list[str]) -> None:
    """Build the models and import everything once, so that no contender pays the first run's disk reads."""
    from . import models
    from .harness import timed_process

    models.tiny_sd()
    if any("sd1" in name or name == "sdcpp" for name in names):
        models.sd1_pipeline()
    imports = "import abstractvision.cli, abstractvision.backends.huggingface_diffusers.backend, diffusers, hydra"
    timed_process([sys.executable, "-c", imports], settings.workdir, settings.env)


def load_average() -> str:
    """Other work on the machine skews every figure: the harness records the load it ran under."""
    return f"{os.getloadavg()[0]:.2f}"


def describe(row: Row) -> str:
    if isinstance(row, Unavailable):
        return f"{row.bench}: {row.subject}: {row.reason}"
    low, high = row.spread
    seconds = f", {row.measured:.2f} s" if row.target and row.target.unit == "s" else ""
    return (
        f"{row.bench}: {row.subject} / {row.baseline} = {row.ratio:.2f}x (rounds {low:.2f}-{high:.2f}x){seconds}, "
        f"target {row.target or '-'}: {row.verdict}"
    )


def main(argv: list[str]) -> int:
    args = parse(argv)
    benches = select(args.only)
    rounds = args.rounds or (2 if args.quick else 3)
    rows: list[Row] = []
    started, load_before = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory(prefix="abstractvision-bench-") as folder:
        settings = Settings(quick=args.quick, rounds=rounds, threads=args.threads, workdir=Path(folder))
        warm_up(settings, list(benches))
        for name, bench in benches.items():
            bench_start = time.perf_counter()
            try:
                new_rows = bench(settings)
            except Exception as exc:  # a bench that breaks is a row of the table, not the end of the run
                new_rows = [Unavailable(name, "-", f"FAILED: {type(exc).__name__}: {str(exc)[-300:]}")]
            for row in new_rows:
                print(describe(row), flush=True)
            print(f"  ({name}: {time.perf_counter() - bench_start:.0f} s)", flush=True)
            rows += new_rows
    context = {
        "Date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "Command": shlex.join(["python", "-m", "bench", *argv]),
        "Settings": f"{'quick' if args.quick else 'full'} sizes, rounds: {rounds}, threads per process: {args.threads}",
        "Harness time": f"{time.perf_counter() - started:.0f} s",
        "Load average (1 min) before / after": f"{load_before} / {load_average()}",
    }
    joblib_threads = 2 * args.threads
    oversubscribed = "more" if joblib_threads > (os.cpu_count() or 1) else "no more"
    notes = [
        f"Every process runs with OMP_NUM_THREADS={args.threads} (MKL and OpenBLAS alike), each of the joblib "
        f"launcher's two workers included: {joblib_threads} threads there, {oversubscribed} than the CPUs.",
        "All figures are CPU figures. The CUDA ones of the issue (overhead without batching <= 1.05x, batching at "
        "512x512 on the 1 GB model) need a CUDA machine: `python bench/bench_runner_overhead.py 200 cuda` there.",
    ]
    out = args.out or (None if args.only else RESULTS)
    if out is not None:
        out.write_text(render(rows, context, notes), encoding="utf-8")
        print(f"wrote {out}")
    failed = [r for r in rows if isinstance(r, Unavailable) and r.reason.startswith("FAILED")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
