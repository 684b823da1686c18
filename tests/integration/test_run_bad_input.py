"""Every kind of bad input fails through the real CLI before any work: exit 2, the key named, nothing written."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from run_helpers import cli


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=nope"], "error: `model`: unknown option 'nope'; valid options are ["),
        (["colour=red"], "error: `colour`: unknown config key"),
        (["seed=range(0,)"], "error: `seed`: malformed override 'seed=range(0,)'"),
        (["seed=range(0,0)"], "error: `seed`: the sweep is empty"),
        (["sweep.file=missing.txt"], "error: `sweep.file`: prompt file"),
        (["task=image_to_image", "image=missing.png"], "error: `image`: cannot read 'missing.png'"),
        (["task=image_to_image", "image=bad.png"], "error: `image`: does not decode as an image"),
        (["width=65"], "error: `width`: must be a positive multiple of 8, got 65; use 64 or 72"),
        (["task=text_to_video"], "error: model 'tiny-sd' does not support task 'text_to_video'"),
        (["backend.colour=red"], "error: `backend.colour`: unknown config key"),
        (["backend.devise=cpu"], "error: `backend.devise`: unknown config key; did you mean `backend.device`?"),
        (["backend.scheduler=eulr"], "error: `backend.scheduler`: unknown scheduler 'eulr'; valid names are"),
        (
            ["backend.scheduler=EulrScheduler"],
            "error: preflight failed, nothing was run or written:\ntiny-sd (diffusers): InvalidParameterError: "
            "`backend.scheduler`: unknown scheduler 'EulrScheduler'",
        ),
        (["+extra.scheduler=eulr"], "error: `extra.scheduler`: unknown scheduler 'eulr'"),
        (["run.retrie=3"], "error: `run.retrie`: unknown config key; did you mean `run.retries`? valid keys are"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path, overrides: list[str], message: str) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    result = cli("run", *overrides, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png"]


def test_a_run_dir_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    """Under a file, and on a read-only file system (root ignores file modes, so a read-only bind mount, made in a
    private mount namespace with ``unshare``: nothing leaks to this machine's mounts)."""
    (tmp_path / "afile").write_text("mine")
    result = cli("run", "run.dir=afile/run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"run.dir: 'afile/run' cannot be made: {tmp_path / 'afile'} is a file, not a folder" in result.stderr
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("a read-only bind mount needs unshare with user or mount namespaces, which this machine lacks")
    (tmp_path / "src").mkdir()
    (tmp_path / "ro").mkdir()
    command = [sys.executable, "-m", "abstractvision.cli", "run", "run.dir=ro/run", "run.progress=false"]
    script = f"mount --bind src ro && mount -o remount,bind,ro ro && exec {shlex.join(command)}"
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "error: preflight failed, nothing was run or written:" in result.stderr
    assert f"run.dir: {tmp_path / 'ro'} is not writable; fix its permissions or pick another run.dir" in result.stderr
    assert list((tmp_path / "src").iterdir()) == []


def test_a_run_dir_holding_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("mine")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "manifest.sqlite").write_text("not a database")
    result = cli("run", "run.dir=file", cwd=tmp_path)
    assert result.returncode == 2 and "error: run.dir 'file' is a file, not a folder" in result.stderr
    result = cli("run", "run.dir=folder", cwd=tmp_path)
    assert result.returncode == 2 and "holds other files (notes.txt) and no manifest.sqlite" in result.stderr
    result = cli("run", "run.dir=fake", cwd=tmp_path)
    assert result.returncode == 2 and "fake/manifest.sqlite is not an AbstractVision manifest" in result.stderr
    assert sorted(p.name for p in (tmp_path / "fake").iterdir()) == ["manifest.sqlite"]
    assert (tmp_path / "file").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["notes.txt"]
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / "fake" / "manifest.sqlite").execute("SELECT 1 FROM jobs")


def test_status_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = cli("status", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "is not a run folder (no manifest.sqlite)" in result.stderr


def test_unknown_flag(tmp_path: Path) -> None:
    result = cli("run", "--colour", cwd=tmp_path)
    assert result.returncode == 2 and "`--colour`: unknown option of `abstractvision run`" in result.stderr
