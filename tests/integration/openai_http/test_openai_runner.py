"""The runner drives ``abstractvision serve`` over HTTP with ``run.concurrency=4``: the manifest records the same
jobs, seeds and statuses as a local run of the same sweep, resumes the same way, and never holds the API key."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

SWEEP = ["model=tiny-sd", "prompt=a red fox", "seed=range(0,4)", "run.progress=false"]


def run(tmp_path: Path, name: str, *overrides: str, env: dict[str, str] | None = None) -> tuple[Path, str]:
    run_dir = tmp_path / name
    args = [sys.executable, "-m", "abstractvision.cli", "run", *SWEEP, f"run.dir={run_dir}", *overrides]
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir, result.stdout + result.stderr


def jobs(run_dir: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(run_dir / "manifest.sqlite")
    conn.row_factory = sqlite3.Row
    return conn.execute("SELECT * FROM jobs ORDER BY seed").fetchall()


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGB"), dtype=np.int16)


def test_http_sweep_has_local_manifest_semantics(tiny_sd_server, tmp_path):
    key_env = {"ABSTRACTVISION_TEST_SERVER_KEY": tiny_sd_server.api_key}
    http_overrides = [
        "backend=openai",
        f"backend.base_url={tiny_sd_server.base_url}",
        "backend.api_key_env=ABSTRACTVISION_TEST_SERVER_KEY",
        "run.concurrency=4",
    ]
    http_dir, output = run(tmp_path, "http", *http_overrides, env=key_env)
    assert "4 done now" in output
    local_dir, _ = run(tmp_path, "local")

    http_jobs, local_jobs = jobs(http_dir), jobs(local_dir)
    assert [(j["status"], j["seed"], j["task"], j["attempts"]) for j in http_jobs] == [
        (j["status"], j["seed"], j["task"], j["attempts"]) for j in local_jobs
    ]
    assert {j["backend"] for j in http_jobs} == {"openai"}
    for http_job, local_job in zip(http_jobs, local_jobs, strict=True):
        sidecar = json.loads((http_dir / http_job["output"]).with_suffix(".json").read_text())
        assert sidecar["seed"] == http_job["seed"] and sidecar["seed_source"] == "server"
        # Same model, seed and parameters through HTTP or in process: the same picture (thread counts may differ).
        difference = np.abs(pixels(http_dir / http_job["output"]) - pixels(local_dir / local_job["output"]))
        assert difference.max() <= 2

    _, again = run(tmp_path, "http", *http_overrides, env=key_env)
    assert "0 done now, 4 already done" in again

    for path in http_dir.rglob("*"):
        if path.is_file():
            assert tiny_sd_server.api_key.encode() not in path.read_bytes(), path
