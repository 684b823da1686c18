"""A sampled sweep on real tiny-sd: raising ``sweep.sample`` runs only the combinations it adds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_sd_path")
def test_raising_the_sample_resumes_the_same_run(tmp_path: Path) -> None:
    grid = ["prompt=a fox", "seed=range(0,50)", "guidance_scale=5,7.5", "steps=2", f"run.root={tmp_path}",
            "run.progress=false"]  # fmt: skip
    first = Runner(load_run_config([*grid, "sweep.sample=2"]), out=io.StringIO()).run()
    assert (first.jobs, first.done) == (2, 2)
    second = Runner(load_run_config([*grid, "sweep.sample=3"]), out=io.StringIO()).run()
    assert second.run_dir == first.run_dir
    assert (second.jobs, second.already_done, second.done) == (3, 2, 1)
