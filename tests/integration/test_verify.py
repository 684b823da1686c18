"""``abstractvision verify`` on a real tiny-sd run: an untouched run reproduces, an altered file is caught, and
each verification is recorded in the manifest with where it ran."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from run_helpers import cli

from abstractvision.cli import main
from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.manifest import Manifest
from abstractvision.pipeline.recorded_groups import recorded_group


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    done = cli("run", "prompt=a red fox", "seed=0,1", "steps=2", f"run.dir={folder / 'run'}", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "run"


def alter(path: Path) -> None:
    """Invert one pixel of the image at ``path``."""
    with Image.open(path) as image:
        altered = image.convert("RGB")
    altered.putpixel((0, 0), tuple(255 - c for c in altered.getpixel((0, 0))))
    altered.save(path)


def verifications(run_dir: Path) -> list[dict]:
    conn = sqlite3.connect(run_dir / "manifest.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM verifications ORDER BY verified_at")]
    finally:
        conn.close()


@pytest.mark.slow
def test_an_untouched_run_reproduces_and_is_recorded(run_dir: Path, capsys) -> None:
    assert main(["verify", str(run_dir), "--sample", "5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok ") == 2 and "2 of 2 jobs reproduced" in out
    [record] = verifications(run_dir)
    environment = json.loads(record["environment"])
    assert record["checked"] == 2 and record["mismatched"] == 0 and record["host"]
    assert environment["threads"] >= 1 and environment["device"] == "cpu" and "torch" in environment["versions"]
    assert [r["max_diff"] for r in json.loads(record["results"])] == [0, 0]


@pytest.mark.slow
def test_an_altered_file_is_a_mismatch(run_dir: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    victim = sorted((copy / "outputs").glob("*.png"))[0]
    alter(victim)
    assert main(["verify", str(copy), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert f"{victim.stem}   MISMATCH" in out and "nothing recorded differs (device, dtype, threads, versions)" in out
    assert "1 of 2 jobs reproduced, 1 did not" in out
    assert verifications(copy)[-1]["mismatched"] == 1


def test_bad_input_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path / "nothing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err and not (tmp_path / "nothing").exists()
    assert main(["verify", str(tmp_path), "--backend-option", "threads"]) == 2
    assert "error: `--backend-option`: expects KEY=VALUE, got 'threads'" in capsys.readouterr().err
    manifest = Manifest(":memory:")
    manifest.add_group("g1", "openai", "remote", {"base_url": "http://127.0.0.1:1/v1", "api_key": "<redacted>"})
    with pytest.raises(InvalidParameterError, match=r"option\(s\) \['api_key'\] were redacted .* --backend-option api"):
        recorded_group(manifest, "g1")
    with pytest.raises(
        InvalidParameterError, match=r"'size' is not a redacted or placement option of the run's openai"
    ):
        recorded_group(manifest, "g1", {"api_key": "k", "size": "64x64"})  # it would change the output


@pytest.mark.slow
def test_another_thread_count_is_named_as_what_may_explain_a_difference(run_dir: Path, tmp_path: Path, capsys) -> None:
    """The run recorded torch's thread count in every sidecar (1: conftest's OMP_NUM_THREADS, which the run's
    process inherited); verifying with 2 threads (a placement option, so the same group) says, for any image
    that moved, that the thread count changed. (Which images move by a level is up to the CPU's kernels.)"""
    torch = pytest.importorskip("torch")
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert {json.loads(p.read_text())["threads"] for p in (copy / "outputs").glob("*.json")} == {1}
    threads = torch.get_num_threads()
    try:
        code = main(["verify", str(copy), "--no-progress", "--backend-option", "threads=2"])
    finally:
        torch.set_num_threads(threads)  # the backend sets it process-wide; the other tests run as they were
    out = capsys.readouterr().out
    lines = out.splitlines()[1:-1]
    assert len(lines) == 2
    for line in lines:
        assert " ok " in line or ("MISMATCH" in line and "environment differs (threads 1 -> 2): may explain it" in line)
    assert code == (1 if "MISMATCH" in out else 0)
    assert json.loads(verifications(copy)[-1]["environment"])["threads"] == 2


@pytest.mark.slow
def test_videos_and_view_sets_are_verified_file_by_file(video_run: Path, view_run: Path, tmp_path: Path, capsys):
    """One frame PNG of one clip, and one view of one set, altered: that job alone is a mismatch, which names
    how many of its files differ; the other job (its MP4 compared frame by frame) reproduces."""
    for run, victim, files in ((video_run, "*-frame0003.png", 6), (view_run, "*-az22.5_el0.png", 2)):
        copy = tmp_path / run.parent.name
        shutil.copytree(run, copy)
        victim = sorted((copy / "outputs").glob(victim))[0]
        alter(victim)
        assert main(["verify", str(copy), "--no-progress"]) == 1
        out = capsys.readouterr().out
        job_id = victim.name[:20]
        assert f"{job_id}   MISMATCH" in out and f"1 of {files} files differ; nothing recorded differs" in out
        assert "   ok " in out and "1 of 2 jobs reproduced, 1 did not" in out
