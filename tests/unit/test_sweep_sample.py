"""``sweep.sample=N``: N combinations drawn reproducibly from a grid too big to run whole; a larger N keeps
every combination drawn before, and finds the same run folder."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.plan import Plan
from abstractvision.pipeline.runner import Runner
from abstractvision.pipeline.sweep import grid_axis, make_sweep

GRID = ["prompt=a fox", "seed=range(0,1000)", "guidance_scale=1,2,3,4,5", "steps=2"]


def test_draws_are_reproducible_nested_and_in_sweep_order() -> None:
    sweep = make_sweep([grid_axis("seed", list(range(1000))), grid_axis("guidance_scale", [1.0, 2.0, 3.0])])
    small, large = sweep.sample(5, seed=0), sweep.sample(50, seed=0)
    assert len(small) == 5 and small.grid_size() == 3000
    assert list(small.rows()) == list(sweep.sample(5, seed=0).rows())
    assert {tuple(r.items()) for r in small.rows()} <= {tuple(r.items()) for r in large.rows()}
    assert list(small.indices()) == sorted(small.indices())
    assert list(small.rows()) != list(sweep.sample(5, seed=1).rows())
    whole = list(sweep.rows())
    assert all(row in whole for row in large.rows())
    with pytest.raises(InvalidParameterError, match=r"`sweep.sample`: asks for 3001 combinations but the grid has"):
        sweep.sample(3001, seed=0)


@pytest.mark.usefixtures("tiny_sd_path")
def test_a_larger_sample_keeps_the_jobs_and_the_run_folder(tmp_path: Path) -> None:
    def plan(*extra: str) -> tuple[set[str], Path]:
        config = load_run_config([*GRID, *extra])
        return {job.job_id for job in Plan(config).jobs()}, config.run_dir()

    four, folder = plan("sweep.sample=4")
    six, same_folder = plan("sweep.sample=6")
    assert len(four) == 4 and len(six) == 6 and four < six and folder == same_folder
    other, _ = plan("sweep.sample=4", "sweep.sample_seed=7")
    assert other != four
    out = io.StringIO()
    Runner(load_run_config([*GRID, "sweep.sample=4", "run.dry_run=true"]), out=out).run()
    assert "dry run: 4 jobs" in out.getvalue() and "sampled 4 of the grid's 5000 combinations" in out.getvalue()


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_sample_is_refused(value: str) -> None:
    with pytest.raises(InvalidParameterError, match=rf"`sweep.sample`: must be an integer >= 1, got '{value}'"):
        load_run_config([*GRID, f"sweep.sample={value}"])
