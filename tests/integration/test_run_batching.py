"""``run.batch_size`` on tiny-sd through the real CLI: the same jobs as a run without batching, pixels within one
level of theirs, each job recorded on its own; a real SIGKILL mid-run loses nothing recorded done, and Ctrl-C
records the batch it was in before it exits."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from run_helpers import assert_complete, jobs, kill_and_resume, popen, wait_for_done

import abstractvision
from abstractvision.cli import main

pytestmark = pytest.mark.slow
SEEDS = 6  # batches of 4 and 2
ARGS = ("run", "prompt=a red fox", "steps=2")


def batched(run_dir: str, seeds: int = SEEDS) -> tuple[str, ...]:
    return (*ARGS, f"seed=range(0,{seeds})", "run.batch_size=4", f"run.dir={run_dir}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """One run without batching and one with, killed (SIGKILL) after its first batch and resumed."""
    folder = tmp_path_factory.mktemp("batching")
    abstractvision.run([*ARGS[1:], f"seed=range(0,{SEEDS})"], run_dir=folder / "single", progress=False)
    process = popen(*batched("batched"), cwd=folder)
    wait_for_done(folder / "batched", process, at_least=2)
    kill_and_resume(batched("batched"), folder, folder / "batched", process, total=SEEDS)
    return folder


def test_batching_keeps_the_jobs_and_moves_pixels_by_at_most_one_level(runs: Path) -> None:
    single, batch = jobs(runs / "single"), jobs(runs / "batched")
    assert {k: r["seed"] for k, r in single.items()} == {k: r["seed"] for k, r in batch.items()}  # same ids, seeds
    sizes = []
    for job_id in single:
        files = [runs / r / "outputs" / job_id for r in ("single", "batched")]
        pixels = [np.asarray(Image.open(f.with_suffix(".png")), dtype=int) for f in files]
        assert np.abs(pixels[0] - pixels[1]).max() <= 1
        alone, sidecar = (json.loads(f.with_suffix(".json").read_text()) for f in files)
        assert sidecar["seed"] == alone["seed"] == single[job_id]["seed"] and "batch" not in alone
        sizes.append(sidecar.get("batch", {}).get("size", 1))
    assert max(sizes) == 4  # the batches after the kill depend on when it came
    assert_complete(runs / "single", SEEDS)


def test_verify_names_the_batch_and_reproduces_within_one_level(runs: Path, capsys) -> None:
    assert main(["verify", str(runs / "batched"), "--sample", "3", "--tolerance", "1", "--no-progress"]) == 0
    assert "3 of 3 jobs reproduced" in capsys.readouterr().out
    if main(["verify", str(runs / "batched"), "--sample", "3", "--no-progress"]) != 0:  # exact: depends on pixels
        assert "made in a batch of" in capsys.readouterr().out


def test_ctrl_c_finishes_the_batch_records_it_and_exits(tmp_path: Path, tiny_sd_path: Path) -> None:
    # Six batches of 4: the signal, sent once the first batch is done, lands in a later one, never the last.
    process = popen(*batched("r", seeds=24), cwd=tmp_path)
    wait_for_done(tmp_path / "r", process, at_least=1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    rows = jobs(tmp_path / "r")
    done = {job_id for job_id, row in rows.items() if row["status"] == "done"}
    assert "running" not in {row["status"] for row in rows.values()} and len(done) % 4 == 0 and 4 <= len(done) < 24
    written = {path.stem for path in (tmp_path / "r" / "outputs").glob("*.png")}
    assert written == done and not list((tmp_path / "r" / "outputs").glob(".*.tmp"))
