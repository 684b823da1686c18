"""The benches' own set-up steps run against today's code: a bench that breaks is a row saying FAILED in
bench/RESULTS.md, found only when someone runs the whole harness (the resume bench's stand-in run broke
that way when the runner moved to the worker contract)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import abstractvision
from bench.bench_multirun import sd1_model

ROOT = Path(__file__).resolve().parents[2]


def test_the_resume_bench_finishes_its_stand_in_run(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "bench_resume.py"), "prepare", str(tmp_path), "10"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert len(list((tmp_path / "runs/resume/outputs").glob("*.png"))) == 10


def test_the_sd1_multirun_plans_its_model_on_diffusers(tmp_path: Path) -> None:
    plan = abstractvision.plan([*sd1_model(tmp_path), "prompt=a red fox", "seed=range(0,3)"])
    assert plan.jobs == 3
