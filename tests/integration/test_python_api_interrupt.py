"""Ctrl-C during ``abstractvision.run`` (what a notebook's interrupt button sends): a real process, real SIGINT.

The first SIGINT finishes the job in flight and returns a result marked ``interrupted``; a second one raises
``KeyboardInterrupt`` into the caller at once. Either way the run folder is left resumable: the same call
again finishes the run, each job done once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import assert_complete, jobs, wait_for_done

pytestmark = pytest.mark.slow
SCRIPT = """
import abstractvision
try:
    result = abstractvision.run(["prompt=a red fox", "seed=range(0,5)"], run_dir="r", progress=False)
    print("result", result.interrupted, len(result), flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


def start(cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def resume_and_check(cwd: Path, done_before: dict[str, str]) -> None:
    again = subprocess.run([sys.executable, "-c", SCRIPT], cwd=cwd, capture_output=True, text=True, timeout=240)
    assert again.stdout.strip() == "result False 5", again.stderr
    assert_complete(cwd / "r", 5)
    assert done_before.items() <= {j: row["sha256"] for j, row in jobs(cwd / "r").items()}.items()


def done_jobs(run_dir: Path) -> dict[str, str]:
    return {job_id: row["sha256"] for job_id, row in jobs(run_dir).items() if row["status"] == "done"}


def test_ctrl_c_returns_an_interrupted_result_and_the_same_call_resumes(tmp_path: Path, tiny_sd_path: Path) -> None:
    process = start(tmp_path)
    wait_for_done(tmp_path / "r", process, at_least=1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    interrupted, done = stdout.split()[1:]
    assert interrupted == "True" and 1 <= int(done) < 5, stdout
    assert "stopping after the current job" in stderr and "RunResult(" in stderr
    assert "run the same call again to resume" in stderr
    statuses = [row["status"] for row in jobs(tmp_path / "r").values()]
    assert "running" not in statuses and "pending" in statuses
    resume_and_check(tmp_path, done_jobs(tmp_path / "r"))


def test_a_second_ctrl_c_raises_keyboard_interrupt_and_the_run_still_resumes(
    tmp_path: Path, tiny_sd_path: Path
) -> None:
    process = start(tmp_path)
    wait_for_done(tmp_path / "r", process, at_least=1)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert stdout.strip() == "KeyboardInterrupt", (stdout, stderr)
    resume_and_check(tmp_path, done_jobs(tmp_path / "r"))
