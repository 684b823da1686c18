"""A full disk and a read-only run folder, on a tmpfs mounted for the test: a full disk stops the run cleanly
(the job being written is not done, no temp file stays) and the same command finishes once there is room; a
read-only folder is refused before any work, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_checks import ImageServer, Tmpfs, check_after_kill, check_complete, http_args, report, snapshot
from run_helpers import cli, jobs

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
JOBS = 60


def filling_run_folder(where: str, tmpfs, tmp_path: Path, server: ImageServer) -> tuple[Tmpfs, Path]:
    """A run folder that a small tmpfs fills: the whole folder (the manifest's WAL, which grows with every
    commit, or an output file fills it), or only its outputs (mounted into a run begun on the ordinary disk)."""
    if where == "run folder":
        fs = tmpfs("512k")  # room for a dozen jobs
        return fs, fs.path / "r"
    run_dir = tmp_path / "r"
    assert cli("run", *http_args(server, "seed=0"), "run.dir=r", cwd=tmp_path).returncode == 0
    first = {p.name: p.read_bytes() for p in (run_dir / "outputs").iterdir()}
    fs = tmpfs("64k", at=run_dir / "outputs")  # hides the first job's files: put them back
    for name, data in first.items():
        (fs.path / name).write_bytes(data)
    return fs, run_dir


@pytest.mark.parametrize("where", ["run folder", "outputs"])
def test_a_full_disk_stops_the_run_cleanly_and_it_resumes_after_a_remount(
    where: str, tmpfs, tmp_path: Path, image_server: ImageServer
) -> None:
    fs, run_dir = filling_run_folder(where, tmpfs, tmp_path, image_server)
    args = ("run", *http_args(image_server, f"seed=range(0,{JOBS})"), f"run.dir={run_dir}")
    full = cli(*args, cwd=tmp_path)
    assert full.returncode == 2, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    named = [f"{run_dir / 'outputs'} (No space"]  # a file failed, or (filling the whole folder) maybe the WAL
    named += [f"{run_dir / 'manifest.sqlite'} could not be written"] if where == "run folder" else []
    assert any(n in full.stderr for n in named) and "the run stopped" in full.stderr, full.stderr
    assert "free space on the run folder's disk (or make it writable), then run the same command" in full.stderr
    rows = check_after_kill(run_dir, {}, kills=1)  # every done job's files verify; the rest are not done
    done = sum(1 for row in rows.values() if row["status"] == "done")
    assert 0 < done < JOBS
    assert not list((run_dir / "outputs").glob(".*.tmp")), "a temp file stayed"

    fs.remount("size=8m")
    resumed = cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{JOBS - done} done now, {done} already done" in resumed.stdout
    check_complete(run_dir, JOBS, kills=1)
    report(f"disk full ({where})", jobs=JOBS, done_before_full=done, error=full.stderr.strip()[:200])


def test_a_read_only_run_folder_is_refused_before_any_work(tmpfs, image_server: ImageServer) -> None:
    fs: Tmpfs = tmpfs("8m")
    args = ("run", *http_args(image_server, "seed=range(0,10)"), f"run.dir={fs.path / 'r'}")
    assert cli(*args, cwd=fs.path.parent).returncode == 0 and len(jobs(fs.path / "r")) == 10
    fs.remount("ro")  # root ignores file permissions: a read-only mount is the real thing
    before, requests = snapshot(fs.path), image_server.requests
    for run_dir in ("r", "new"):  # an existing run with new jobs, and a folder to create
        more = ("run", *http_args(image_server, "seed=range(0,20)"), f"run.dir={fs.path / run_dir}")
        result = cli(*more, cwd=fs.path.parent)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        named = fs.path / "r" if run_dir == "r" else fs.path  # the folder, or the one it would be made in
        assert f"run.dir: {named} is not writable; fix its permissions or pick another run.dir" in result.stderr
    assert snapshot(fs.path) == before and image_server.requests == requests  # nothing written, nothing sent
