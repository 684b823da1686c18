"""A 10,000-job run (the HTTP backend against a fast local server, on a tmpfs so that the disk does not pace it)
completes with flat memory: the runner's peak RSS in the last quarter of the run is within a few MiB of the
first quarter's. In the full set only (RELIABILITY_FULL=1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from reliability_checks import FULL, ImageServer, check_complete, http_args, report, rss_mb
from run_helpers import popen

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not FULL, reason="the 10,000-job run is in the full set: RELIABILITY_FULL=1"),
]
JOBS = 10_000
MARGIN_MB = 8.0


def test_a_10000_job_run_has_flat_memory(tmpfs, tmp_path: Path) -> None:
    server = ImageServer()
    run_dir = tmpfs("256m").path / "r"
    args = ("run", *http_args(server, f"seed=range(0,{JOBS})", "run.concurrency=4"), f"run.dir={run_dir}")
    start, runner, samples = time.monotonic(), popen(*args, cwd=tmp_path), []
    while (rss := rss_mb(runner.pid)) is not None and runner.poll() is None:
        samples.append(rss)
        time.sleep(0.2)
    _, stderr = runner.communicate()
    elapsed = time.monotonic() - start
    server.stop()
    assert runner.returncode == 0, stderr
    check_complete(run_dir, JOBS, kills=0)
    quarter = len(samples) // 4
    first, last = max(samples[:quarter]), max(samples[-quarter:])
    report("memory", jobs=JOBS, seconds=round(elapsed, 1), samples=len(samples), first_quarter_peak_mb=round(first, 1),
           last_quarter_peak_mb=round(last, 1), peak_mb=round(max(samples), 1))  # fmt: skip
    assert last <= first + MARGIN_MB, f"RSS grew from {first:.1f} to {last:.1f} MiB"
