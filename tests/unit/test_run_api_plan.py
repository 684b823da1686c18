"""``abstractvision.plan``: the CLI's overrides in, job count, groups and a sample out; nothing loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import abstractvision
from abstractvision.pipeline.compose import load_run_config


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./conf here, and nothing may be written here


def test_plan_counts_groups_and_samples_the_jobs(tmp_path: Path) -> None:
    plan = abstractvision.plan(["model=tiny-sd", "seed=range(0,4)", "guidance_scale=5,7.5,5"], sample=3)
    assert (plan.jobs, plan.duplicates) == (8, 4)
    assert [(g.backend, g.model, g.jobs) for g in plan.groups] == [("diffusers", "tiny-sd", 8)]
    assert len(plan.sample) == 3 and plan.sample[0].params["guidance_scale"] == 5.0
    assert {job.seed for job in plan.sample} <= set(range(4))
    assert plan.run_dir.parts[0] == "runs"
    assert str(plan).startswith("8 jobs (4 duplicates collapsed) in 1 backend group(s)")
    assert "... and 5 more" in str(plan)
    assert list(tmp_path.iterdir()) == []


def test_plan_takes_a_composed_config_and_agrees_with_the_overrides() -> None:
    overrides = ["model=tiny-sd,tiny-sd-alt", "seed=0,1"]
    from_overrides = abstractvision.plan(overrides, sample=10)
    from_config = abstractvision.plan(load_run_config(overrides), sample=10)
    assert from_config == from_overrides
    assert from_overrides.jobs == 4 and len(from_overrides.groups) == 2


def test_only_run_settings_plans_the_quickstart_like_the_cli() -> None:
    assert abstractvision.plan(["run.base_seed=0"]).jobs == 6  # conf/experiment/quickstart.yaml: 3 prompts x 2 seeds


PROBE = """
import json, sys, time
start = time.perf_counter()
import abstractvision
plan = abstractvision.plan(["model=tiny-sd", "seed=range(0,2000)", "guidance_scale=5,7.5"], sample=2)
elapsed = time.perf_counter() - start
heavy = [m for m in ("torch", "diffusers", "transformers", "stable_diffusion_cpp", "ray") if m in sys.modules]
print(json.dumps({"jobs": plan.jobs, "heavy": heavy, "elapsed_s": elapsed}))
"""


def test_plan_loads_nothing_and_is_fast(tmp_path: Path) -> None:
    """A fresh interpreter: import, compose and plan 4,000 jobs without importing torch (about 1.5 s here)."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["jobs"] == 4000 and report["heavy"] == []
    assert report["elapsed_s"] < 20, report  # generous: the 2-core box is shared; measured ~1.5 s when idle
    assert list(tmp_path.iterdir()) == []
