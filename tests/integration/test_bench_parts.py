"""The benches' own set-up steps run against today's code: a bench that breaks is a row saying FAILED in
bench/RESULTS.md, found only when someone runs the whole harness (the resume bench's stand-in run broke
that way when the runner moved to the worker contract)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import abstractvision
from bench.bench_multirun import sd1_model
from bench.bench_sdcpp import python_mode_backend

ROOT = Path(__file__).resolve().parents[2]


def test_the_resume_bench_finishes_its_stand_in_run(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "bench_resume.py"), "prepare", str(tmp_path), "10"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert len(list((tmp_path / "runs/resume/outputs").glob("*.png"))) == 10


def test_the_sd1_multirun_plans_its_model_on_diffusers(tmp_path: Path) -> None:
    plan = abstractvision.plan([*sd1_model(tmp_path), "prompt=a red fox", "seed=range(0,3)"])
    assert plan.jobs == 3


def test_the_sdcpp_bench_measures_python_mode_where_an_sd_cli_is_found(tmp_path: Path, monkeypatch) -> None:
    """In mode "auto" the backend picks sd-cli when one is found (CI exports one): the overhead figure then
    timed sd-cli loading the model on every call against the binding, and read 1.59x."""
    pytest.importorskip("stable_diffusion_cpp")
    sd_cli = tmp_path / "sd-cli"
    sd_cli.write_text("#!/bin/sh\n")
    sd_cli.chmod(0o755)
    monkeypatch.setenv("ABSTRACTVISION_SD_CLI", str(sd_cli))
    model = tmp_path / "model.gguf"
    model.write_bytes(b"")
    assert python_mode_backend(model, threads=1).mode == "python"
