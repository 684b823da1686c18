"""kill -9 real runners at random moments of a 200-job run, then resume: nothing lost, nothing run twice, no
corrupt or orphan file, the manifest and the files agree, and every attempt count is one per runner that died."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from reliability_checks import TINY, ImageServer, counts, http_args, kill_loop, report

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(900)]  # many runners on a busy box
JOBS = 200
RESUMABLE = "run.max_interrupts=1000"
"""The same job may be running at several kills in a row; quarantine is the crash-loop suite's subject."""


def test_kill_9_a_local_tiny_sd_run(tmp_path: Path, tiny_sd_path: Path, rng: random.Random) -> None:
    kills = counts(fast=2, full=8)

    def args(run_dir: str) -> tuple[str, ...]:
        return ("run", *TINY, f"seed=range(0,{JOBS})", f"run.dir={run_dir}", RESUMABLE)

    stats = kill_loop(args, tmp_path, JOBS, kills, rng, window_s=2.0)
    report("kill -9, local tiny-sd", jobs=JOBS, **vars(stats))
    assert stats.kills == kills and stats.runs_completed >= 1


def test_kill_9_an_http_run_with_concurrency_4(tmp_path: Path, image_server: ImageServer, rng: random.Random) -> None:
    kills = counts(fast=2, full=12)

    def args(run_dir: str) -> tuple[str, ...]:
        overrides = http_args(image_server, f"seed=range(0,{JOBS})", "run.concurrency=4")
        return ("run", *overrides, f"run.dir={run_dir}", RESUMABLE)

    stats = kill_loop(args, tmp_path, JOBS, kills, rng, window_s=1.0)
    report("kill -9, HTTP concurrency=4", jobs=JOBS, requests=image_server.requests, **vars(stats))
    assert stats.kills == kills and stats.runs_completed >= 1
