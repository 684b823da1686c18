"""Helpers for the runner's end-to-end tests: the real CLI in a subprocess, and reading a run folder."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner


def cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``abstractvision ARGS`` in a subprocess (progress bar off unless asked for)."""
    command = [sys.executable, "-m", "abstractvision.cli", *args]
    if args and args[0] == "run" and not any(a.startswith("run.progress") for a in args):
        command.append("run.progress=false")
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "abstractvision.cli", *args, "run.progress=false"]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def jobs(run_dir: Path) -> dict[str, dict]:
    """Every manifest row by job id."""
    conn = sqlite3.connect(f"file:{run_dir / 'manifest.sqlite'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {row["job_id"]: dict(row) for row in conn.execute("SELECT * FROM jobs")}
    finally:
        conn.close()


def count_done(run_dir: Path) -> int:
    try:
        return sum(1 for job in jobs(run_dir).values() if job["status"] == "done")
    except sqlite3.Error:
        return 0


def wait_for_done(run_dir: Path, process: subprocess.Popen[str], at_least: int, timeout: float = 180) -> None:
    """Wait until ``at_least`` jobs of ``run_dir`` are done, failing if ``process`` exits or stalls first."""
    deadline = time.monotonic() + timeout
    while count_done(run_dir) < at_least:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)


def outputs(run_dir: Path) -> dict[str, str]:
    """``{file name: sha256}`` of every file in the outputs folder (temp files included, to catch them)."""
    folder = run_dir / "outputs"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def assert_complete(run_dir: Path, expected: int) -> None:
    """Every job done exactly once, its PNG and sidecar present and matching the manifest."""
    from abstractvision.media.png import read_png_record

    rows = jobs(run_dir)
    assert len(rows) == expected
    files = outputs(run_dir)
    assert sorted(files) == sorted([f"{j}.png" for j in rows] + [f"{j}.json" for j in rows])
    for job_id, row in rows.items():
        assert row["status"] == "done", row
        assert row["output"] == f"outputs/{job_id}.png"
        assert files[f"{job_id}.png"] == row["sha256"]
        record = read_png_record((run_dir / row["output"]).read_bytes())
        assert record["job_id"] == job_id and record["seed"] == row["seed"]
        sidecar = json.loads((run_dir / "outputs" / f"{job_id}.json").read_text())
        assert sidecar["files"][0]["sha256"] == row["sha256"] and sidecar["job"]["seed"] == row["seed"]


def kill_and_resume(args: tuple[str, ...], cwd: Path, run_dir: Path, driver: subprocess.Popen[str], total: int) -> None:
    """SIGKILL ``driver`` (no cleanup of any kind), run ``args`` again: it finishes what was left, keeps what
    was done, and every job is done exactly once."""
    driver.kill()
    driver.wait()
    done_before = {job_id: row["sha256"] for job_id, row in jobs(run_dir).items() if row["status"] == "done"}
    assert 2 <= len(done_before) < total
    result = cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert f"{total} jobs: {total - len(done_before)} done now, {len(done_before)} already done" in result.stdout
    assert_complete(run_dir, total)
    assert done_before.items() <= {job_id: row["sha256"] for job_id, row in jobs(run_dir).items()}.items()


def make_run(folder: Path, *overrides: str) -> Path:
    """``folder/run`` after running ``overrides`` there to the end (every job done)."""
    config = load_run_config([*overrides, f"run.dir={folder / 'run'}", "run.progress=false"])
    summary = Runner(config, out=io.StringIO()).run()
    assert summary.failed == 0 and summary.done > 0
    return folder / "run"
