"""A job that crashes its runner is quarantined: a real kill -9 loop aimed at one slow job, through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from run_helpers import cli, jobs, popen

pytestmark = pytest.mark.slow
ARGS = ("run", "prompt=a red fox", "steps=2,40,3", "run.dir=r")


def slow_job(run_dir: Path) -> dict:
    [row] = [row for row in jobs(run_dir).values() if json.loads(row["params"])["params"]["steps"] == 40]
    return row


def slow_job_running(run_dir: Path, after: float) -> bool:
    """Whether the slow job was started after ``after`` and is running (not a row left by a killed runner)."""
    try:
        row = slow_job(run_dir)
    except (ValueError, sqlite3.Error):  # not planned yet
        return False
    return row["status"] == "running" and row["started_at"] > after


def kill_while_the_slow_job_runs(cwd: Path, *extra: str, timeout: float = 180) -> None:
    """Start a runner, wait until the slow job is running, and SIGKILL the runner (no clean-up of any kind)."""
    after = time.time()
    process = popen(*ARGS, *extra, cwd=cwd)
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the slow job never started"
            if slow_job_running(cwd / "r", after):
                break
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait()


def test_a_kill_9_loop_quarantines_exactly_the_slow_job(tmp_path: Path, tiny_sd_path: Path) -> None:
    for _ in range(2):
        kill_while_the_slow_job_runs(tmp_path)
    result = cli(*ARGS, cwd=tmp_path)  # the third runner finds it running a second time: quarantined
    assert result.returncode == 1, result.stderr
    assert "3 jobs: 1 done now, 1 already done, 0 failed" in result.stdout
    assert "JobInterruptedError: interrupted 2 times (the runner died while it ran)" in result.stdout
    assert "1 job(s) skipped, interrupted run.max_interrupts times: it may be crashing the runner" in result.stderr
    assert "run.retry_failed=true runs it again" in result.stderr
    slow = slow_job(tmp_path / "r")
    assert (slow["status"], slow["attempts"], slow["interrupts"]) == ("failed", 2, 2)
    others = [row for row in jobs(tmp_path / "r").values() if row["job_id"] != slow["job_id"]]
    assert [row["status"] for row in others] == ["done", "done"]

    again = cli(*ARGS, cwd=tmp_path)  # skipped on resume: nothing runs
    assert again.returncode == 1 and "3 jobs: 0 done now, 2 already done" in again.stdout
    status = cli("status", "r", cwd=tmp_path)
    assert "1 of the failed job(s) quarantined, interrupted run.max_interrupts times" in status.stdout
    assert f"failed {slow['job_id']} (2 attempts): JobInterruptedError" in status.stdout

    kill_while_the_slow_job_runs(tmp_path, "run.retry_failed=true")  # asked for: it runs again


def test_max_interrupts_is_checked(tmp_path: Path) -> None:
    result = cli("run", "run.max_interrupts=0", cwd=tmp_path)
    assert result.returncode == 2 and "`run.max_interrupts`: must be an integer >= 1, got 0" in result.stderr
