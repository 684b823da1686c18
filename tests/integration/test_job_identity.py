"""Job identity on real tiny-sd runs: every output-deciding option makes new jobs and new files, placement
options do not, and a run folder made under another identity version is refused before anything is written."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest

from abstractvision.errors import RunError
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner, RunSummary

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")

BASE = ["prompt=a red fox", "seed=0", "backend.device=cpu", "run.progress=false"]


def run(run_dir: Path, *overrides: str) -> RunSummary:
    return Runner(load_run_config([*BASE, f"run.dir={run_dir}", *overrides]), out=io.StringIO()).run()


def outputs(run_dir: Path) -> dict[str, str]:
    """job id -> sha256 of its image."""
    return {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in (run_dir / "outputs").glob("*.png")}


@pytest.fixture(scope="module")
def lora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from abstractvision.testing import build_tiny_lora

    return build_tiny_lora(tmp_path_factory.mktemp("lora"), seed=0)


def test_each_output_deciding_option_gives_new_jobs_and_new_files(tmp_path: Path, tiny_sd_path: Path, lora: Path):
    run_dir = tmp_path / "r"
    first = run(run_dir)
    assert (first.done, first.already_done) == (1, 0)
    seen = outputs(run_dir)
    changes = [
        "backend.scheduler=euler_a",
        f"backend.loras=[{{path: {lora}, weight: 1.0}}]",
        f"backend.loras=[{{path: {lora}, weight: 0.5}}]",
        "backend.dtype=bfloat16",
    ]
    for change in changes:
        summary = run(run_dir, change)
        assert (summary.done, summary.already_done) == (1, 0), change
        now = outputs(run_dir)
        (new_id,) = set(now) - set(seen)
        assert now[new_id] not in seen.values(), f"{change} made the same picture"
        seen = now


def test_a_placement_option_changed_is_already_done(tmp_path: Path, tiny_sd_path: Path) -> None:
    run_dir = tmp_path / "r"
    run(run_dir)
    for placement in ("backend.attention_slicing=true", "backend.vae_slicing=true", "run.concurrency=2"):
        summary = run(run_dir, placement)
        assert (summary.done, summary.already_done) == (0, 1), placement


def test_a_changed_lora_file_makes_new_jobs(tmp_path: Path, tiny_sd_path: Path, lora: Path) -> None:
    """LoRAs are named by content: the same path with other weights in it is another job."""
    from abstractvision.testing import build_tiny_lora

    copy = build_tiny_lora(tmp_path / "mine", seed=0)
    run_dir = tmp_path / "r"
    assert run(run_dir, f"backend.loras=[{{path: {copy}}}]").done == 1
    assert run(run_dir, f"backend.loras=[{{path: {copy}}}]").already_done == 1
    build_tiny_lora(tmp_path / "mine", seed=1)  # same path, other weights
    assert run(run_dir, f"backend.loras=[{{path: {copy}}}]").done == 1


def test_missing_lora_fails_before_anything_is_written(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    with pytest.raises(Exception, match=r"`backend.loras\[0\].path`: .*nope.safetensors' does not exist"):
        run(run_dir, f"backend.loras=[{{path: {tmp_path / 'nope.safetensors'}}}]", "run.dry_run=true")
    assert not run_dir.exists()


def test_a_run_made_under_an_older_identity_version_is_refused_untouched(tmp_path: Path) -> None:
    run_dir = tmp_path / "old"
    run_dir.mkdir()
    manifest = run_dir / "manifest.sqlite"
    conn = sqlite3.connect(manifest)
    conn.executescript(
        "CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL);"
        "INSERT INTO migrations VALUES ('0001_initial', 0);"
        "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, status TEXT);"
        "INSERT INTO jobs VALUES ('abc', 'done');"
    )
    conn.close()
    before = manifest.read_bytes()
    with pytest.raises(RunError, match=r"identity version 1; this one uses version 2 .* Start a new run folder"):
        run(run_dir)
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in run_dir.iterdir()) == ["manifest.sqlite"]
