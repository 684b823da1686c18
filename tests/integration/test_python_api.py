"""``abstractvision.run`` / ``open_run`` end to end on the real tiny-sd model, against the real CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from run_helpers import assert_complete, cli, jobs, outputs

import abstractvision

pytestmark = pytest.mark.slow
STUDY = ["prompt=a red fox", "seed=range(0,3)", "guidance_scale=5,7.5"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """The same overrides run by the CLI (a subprocess) into runs/cli and by ``abstractvision.run`` into runs/api."""
    cwd = tmp_path_factory.mktemp("study")
    result = cli("run", *STUDY, "run.dir=runs/cli", cwd=cwd)
    assert result.returncode == 0, result.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        api = abstractvision.run(STUDY, run_dir="runs/api", progress=False)
    assert api.run_dir == cwd / "runs" / "api"
    assert (api.summary.jobs, api.summary.done, api.summary.failed, api.interrupted) == (6, 6, 0, False)
    return cwd / "runs"


def test_run_matches_the_cli_ids_and_bytes(runs: Path) -> None:
    assert_complete(runs / "api", 6)
    assert jobs(runs / "api").keys() == jobs(runs / "cli").keys()
    pngs = {name: sha for name, sha in outputs(runs / "api").items() if name.endswith(".png")}
    assert pngs == {name: sha for name, sha in outputs(runs / "cli").items() if name.endswith(".png")}


def test_open_run_iterates_a_cli_run(runs: Path) -> None:
    result = abstractvision.open_run(runs / "cli")
    rows = jobs(runs / "cli")
    items = list(result)
    assert len(result) == 6 and result.counts == {"total": 6, "pending": 0, "running": 0, "done": 6, "failed": 0}
    assert [item.job_id for item in items] == sorted(rows, key=lambda j: rows[j]["seq"])
    item = items[0]
    assert (item.model, item.task, item.seed) == ("tiny-sd", "text_to_image", rows[item.job_id]["seed"])
    assert item.params["prompt"] == "a red fox" and item.params["steps"] == 4  # model defaults filled in
    assert item.path == runs / "cli" / "outputs" / f"{item.job_id}.png" and item.paths == [item.path]
    assert item.metadata()["job_id"] == item.job_id
    image = item.image
    assert isinstance(image, Image.Image) and image.size == (64, 64)
    assert image.tobytes() == Image.open(item.path).tobytes()
    assert result.failures == [] and not result.interrupted and result.summary is None


def test_where_filters_by_parameter_seed_and_lists(runs: Path) -> None:
    result = abstractvision.open_run(runs / "api")
    high = result.where(guidance_scale=7.5)
    assert len(high) == 3 and {i.params["guidance_scale"] for i in high} == {7.5}
    assert sorted(i.seed for i in high) == [0, 1, 2]
    assert [i.seed for i in high.where(seed=range(2))] == [0, 1]
    assert len(result.where(guidance_scale=[5, 7.5], seed=2)) == 2
    assert len(result.where(prompt="a blue fox")) == 0
    assert "where guidance_scale=7.5: 3 done" in repr(high)
    assert result.counts["done"] == high.counts["done"] == 6  # counts are the run's, before filters


def test_to_pandas_has_one_row_per_done_job(runs: Path) -> None:
    pytest.importorskip("pandas", reason="to_pandas() needs pandas (not a dependency)")
    frame = abstractvision.open_run(runs / "api").where(seed=0).to_pandas()
    assert list(frame.columns[:4]) == ["job_id", "model", "task", "seed"] and "path" in frame.columns
    assert sorted(frame["guidance_scale"]) == [5.0, 7.5] and set(frame["seed"]) == {0}


def test_grid_and_the_notebook_picture(runs: Path) -> None:
    result = abstractvision.open_run(runs / "api")
    sheet = result.grid(cell_size=32)
    assert sheet.width > 3 * 32 and sheet.height > 2 * 32  # seeds across, guidance scales down
    png = result._repr_png_()
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).width > 3 * 96


def test_a_result_after_run_holds_that_call_s_jobs(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(runs.parent)
    again = abstractvision.run(["prompt=a red fox", "seed=0", "guidance_scale=5"], run_dir="runs/api", progress=False)
    assert (again.summary.done, again.summary.already_done) == (0, 1)  # resumed: nothing to do
    assert len(again) == 1 and again.counts["total"] == 1
    assert len(abstractvision.open_run(runs / "api")) == 6  # the folder still holds all six


def test_a_model_that_will_not_load_stops_its_group_and_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real load failure: a model whose folder holds no pipeline (no weights are needed to fail). Every job
    would fail the same way, so the group stops at once and its jobs stay pending, to run once it is fixed."""
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    (tmp_path / "conf" / "model" / "broken.yaml").write_text(
        f"name: broken\nsource: {tmp_path / 'empty'}\ntasks: [text_to_image]\nbackends: [diffusers]\n"
    )
    monkeypatch.chdir(tmp_path)  # ./conf is searched first, as by the CLI
    result = abstractvision.run(["model=broken", "seed=0,1"], progress=False)
    assert result.counts["done"] == 0 and len(result) == 0 and result.summary.failed == 0
    (stopped,) = result.summary.stopped_groups
    assert type(stopped.error).__name__ == "ModelLoadError" and "could not load model 'broken'" in str(stopped.error)
    assert (stopped.model, stopped.pending, result.counts["pending"]) == ("broken", 2, 2)
