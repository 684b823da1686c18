"""Crash loops at scale: a few jobs that "crash the runner" (the runner is killed each time one of them runs)
among many good ones. Each bad job is quarantined after run.max_interrupts runners died under it; every good
job is done once, untouched by the loop."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest
from reliability_checks import ImageServer, counts, http_args, report
from run_helpers import cli, jobs, popen

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(900)]  # many runners on a busy box
MAX_INTERRUPTS = 2  # the default


def bad_job_running(run_dir: Path, after: float) -> bool:
    """Whether a bad job (its prompt holds ``slow``: the server holds it) was started after ``after`` and runs."""
    try:
        rows = jobs(run_dir).values()
    except sqlite3.Error:  # not planned yet
        return False
    return any(row["status"] == "running" and "slow" in row["params"] and row["started_at"] > after for row in rows)


def test_crash_looping_jobs_are_quarantined_among_many_good_ones(
    tmp_path: Path, image_server: ImageServer, rng: random.Random
) -> None:
    good, bad = counts(fast=40, full=60), counts(fast=2, full=3)
    prompts = [f"fox{i}" for i in range(good)]
    for i in range(bad):
        prompts.insert(rng.randrange(len(prompts) + 1), f"slow{i}")
    args = ("run", *http_args(image_server, "prompt=" + ",".join(prompts)), "run.dir=r")
    run_dir, kills = tmp_path / "r", 0
    while True:
        assert kills <= bad * MAX_INTERRUPTS, "a bad job was not quarantined in time"
        after, runner = time.time(), popen(*args, cwd=tmp_path)
        while runner.poll() is None and not bad_job_running(run_dir, after):
            time.sleep(0.05)
        if runner.poll() is not None:
            break  # every bad job quarantined: this runner went through
        runner.kill()
        runner.communicate()
        kills += 1
    stdout, stderr = runner.communicate()
    assert runner.returncode == 1, stderr
    assert f"{good + bad} jobs: " in stdout and f"JobInterruptedError: interrupted {MAX_INTERRUPTS} times" in stdout
    assert kills == bad * MAX_INTERRUPTS
    assert f"{bad} job(s) skipped, interrupted run.max_interrupts times: it may be crashing the runner" in stderr
    rows = jobs(run_dir).values()
    quarantined = [row for row in rows if "slow" in row["params"]]
    assert {(r["status"], r["error_type"], r["attempts"], r["interrupts"]) for r in quarantined} == {
        ("failed", "JobInterruptedError", MAX_INTERRUPTS, MAX_INTERRUPTS)
    }
    done = [row for row in rows if "slow" not in row["params"]]
    assert len(done) == good and {(r["status"], r["attempts"], r["interrupts"]) for r in done} == {("done", 1, 0)}
    again = cli(*args, cwd=tmp_path)  # skipped on resume: nothing runs, nothing is asked of the server
    assert again.returncode == 1 and f"{good + bad} jobs: 0 done now, {good} already done" in again.stdout
    report("crash loops", good=good, bad=bad, kills=kills, quarantined=len(quarantined))
