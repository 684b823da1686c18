"""Resume after a real SIGKILL, clean stop on Ctrl-C, and the run-folder lock, through the real CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from run_helpers import assert_complete, cli, jobs, kill_and_resume, popen, wait_for_done

from abstractvision.pipeline.run_dir import RunLock

pytestmark = pytest.mark.slow
ARGS = ("run", "prompt=a red fox", "seed=range(0,5)", "run.dir=r")


def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path: Path, tiny_sd_path: Path) -> None:
    process = popen(*ARGS, cwd=tmp_path)
    run_dir = tmp_path / "r"
    wait_for_done(run_dir, process, at_least=2)
    kill_and_resume(ARGS, tmp_path, run_dir, process, total=5)


def test_ctrl_c_stops_after_the_current_job_and_the_run_resumes(tmp_path: Path, tiny_sd_path: Path) -> None:
    process = popen(*ARGS, cwd=tmp_path)
    run_dir = tmp_path / "r"
    wait_for_done(run_dir, process, at_least=1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "stopping after the current job" in stderr and "run the same command again to resume" in stderr
    statuses = [row["status"] for row in jobs(run_dir).values()]
    assert "running" not in statuses and "pending" in statuses
    assert not list((run_dir / "outputs").glob(".*.tmp"))
    assert cli(*ARGS, cwd=tmp_path).returncode == 0
    assert_complete(run_dir, 5)


def test_a_second_runner_is_refused_until_the_first_exits(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    with RunLock(run_dir):
        result = cli(*ARGS, cwd=tmp_path)
    assert result.returncode == 2
    assert "error: run dir 'r' is in use by another runner (pid" in result.stderr
    assert f"pid {os.getpid()} " in result.stderr


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path: Path, tiny_sd_path: Path) -> None:
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from abstractvision.pipeline.run_dir import RunLock; RunLock(Path(sys.argv[1])).acquire(); "
         "print('locked', flush=True); time.sleep(600)", str(run_dir)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    assert "in use by another runner" in cli(*ARGS, "run.dry_run=false", cwd=tmp_path).stderr
    holder.kill()
    holder.wait()
    assert (run_dir / ".lock").exists()
    result = cli("run", "prompt=a red fox", "seed=0", "run.dir=r", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_complete(run_dir, 1)


def test_the_resume_progress_bar_shows_the_whole_run_with_done_jobs_counted(tmp_path: Path, tiny_sd_path: Path) -> None:
    assert cli("run", "prompt=a red fox", "seed=0,1", "steps=1", "run.dir=r", cwd=tmp_path).returncode == 0
    result = cli("run", "prompt=a red fox", "seed=0,1,2", "steps=1", "run.dir=r", "run.progress=true", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    bars = [state for state in re.split(r"[\r\n]+", result.stderr) if state.startswith("jobs:")]
    assert re.match(r"jobs:\s+67%.*\| 2/3 ", bars[0]), bars  # it opens with the two done jobs counted
    assert re.match(r"jobs:\s+100%.*\| 3/3 ", bars[-1]), bars
