"""Two runners on one run folder: the second is refused, naming the first; a lock left by a runner killed with
kill -9 is recognised as such and taken over, and the run completes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from reliability_checks import ImageServer, check_complete, http_args
from run_helpers import cli, popen, wait_for_done

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
JOBS = 200


def test_a_second_runner_is_refused_and_a_dead_ones_lock_is_taken_over(
    tmp_path: Path, image_server: ImageServer
) -> None:
    args = ("run", *http_args(image_server, f"seed=range(0,{JOBS})"), "run.dir=r")
    first = popen(*args, cwd=tmp_path)
    run_dir = tmp_path / "r"
    wait_for_done(run_dir, first, at_least=2)

    second = cli(*args, cwd=tmp_path)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"error: run dir 'r' is in use by another runner (pid {first.pid} on " in second.stderr
    assert "wait for it to finish, stop it, or pick another run.dir" in second.stderr
    with sqlite3.connect(run_dir / "manifest.sqlite") as conn:  # the second runner recorded nothing
        assert conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 1

    first.kill()
    first.communicate()
    assert (run_dir / ".lock").read_text().startswith(f"pid {first.pid} on ")  # left by the dead runner
    third = cli(*args, cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert f"run dir 'r': its last runner (pid {first.pid} on " in third.stderr
    assert "did not exit cleanly; taking over" in third.stderr
    check_complete(run_dir, JOBS, kills=1)
    assert (run_dir / ".lock").read_text() == ""  # released cleanly: the next runner says nothing
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 0 and "did not exit cleanly" not in again.stderr
