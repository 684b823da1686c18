"""``abstractvision run`` / ``status`` end to end: the real CLI in subprocesses on the real tiny-sd model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from run_helpers import assert_complete, cli, jobs, outputs

from abstractvision.media.png import read_png_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fox_run(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """The README's 8-job example, verbatim, run once for the module."""
    cwd = tmp_path_factory.mktemp("fox")
    result = cli("run", "prompt=a red fox", "seed=range(0,4)", "guidance_scale=5,7.5", "run.dir=runs/fox", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "runs/fox: 8 jobs: 8 done now, 0 already done, 0 failed" in result.stdout
    return cwd / "runs" / "fox"


def test_fox_example_runs_8_jobs_with_provenance(fox_run: Path) -> None:
    assert_complete(fox_run, 8)
    rows = jobs(fox_run)
    combos = {(json.loads(r["params"])["params"]["guidance_scale"], r["seed"]) for r in rows.values()}
    assert combos == {(g, s) for g in (5.0, 7.5) for s in range(4)}
    row = next(iter(rows.values()))
    text = read_png_text((fox_run / row["output"]).read_bytes())
    assert text["parameters"].startswith("a red fox\n")
    assert f"Seed: {row['seed']}" in text["parameters"] and "Size: 64x64" in text["parameters"]
    assert "Model: tiny-sd" in text["parameters"]


def test_status_reports_counts_and_throughput(fox_run: Path) -> None:
    result = cli("status", str(fox_run), "--json", cwd=fox_run.parent)
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("total", "done", "failed", "pending", "running")} == {
        "total": 8, "done": 8, "failed": 0, "pending": 0, "running": 0}  # fmt: skip
    assert report["jobs_per_s"] > 0
    text = cli("status", str(fox_run), cwd=fox_run.parent).stdout
    assert "jobs: 8 total, 8 done, 0 failed, 0 pending" in text and "jobs/s" in text


def test_same_command_again_resumes_without_work(fox_run: Path) -> None:
    before = outputs(fox_run)
    result = cli("run", "prompt=a red fox", "seed=range(0,4)", "guidance_scale=5,7.5", "run.dir=runs/fox",
                 cwd=fox_run.parent.parent)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "8 jobs: 0 done now, 8 already done" in result.stdout
    assert outputs(fox_run) == before


def test_corrupted_and_missing_outputs_are_redone(fox_run: Path, tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "runs" / "fox"
    shutil.copytree(fox_run, run_dir)
    before = outputs(run_dir)
    first, second = sorted(jobs(run_dir))[:2]
    (run_dir / "outputs" / f"{first}.png").write_bytes(b"garbage")
    (run_dir / "outputs" / f"{second}.png").unlink()
    result = cli("run", "prompt=a red fox", "seed=range(0,4)", "guidance_scale=5,7.5", "run.dir=runs/fox", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 done now, 6 already done (2 redone: missing or corrupt)" in result.stdout
    pngs = {name: sha for name, sha in outputs(run_dir).items() if name.endswith(".png")}
    assert pngs.items() <= before.items()  # the same bytes as the first time (sidecars hold timings)
    assert_complete(run_dir, 8)


def test_models_example_is_4_jobs_over_two_loaded_models(tmp_path: Path, tiny_sd_path: Path) -> None:
    result = cli("run", "-m", "model=tiny-sd,tiny-sd-alt", "seed=0,1", "run.dir=runs/models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "runs" / "models"
    assert_complete(run_dir, 4)
    rows = jobs(run_dir).values()
    assert sorted((r["model"], r["seed"]) for r in rows) == [("tiny-sd", 0), ("tiny-sd", 1), ("tiny-sd-alt", 0),
                                                            ("tiny-sd-alt", 1)]  # fmt: skip
    by_model = {(r["model"], r["seed"]): r["sha256"] for r in rows}
    assert by_model[("tiny-sd", 0)] != by_model[("tiny-sd-alt", 0)]


def test_no_arguments_runs_the_quickstart_and_resumes(tmp_path: Path, tiny_sd_path: Path) -> None:
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"tiny-sd-[0-9a-f]{10}", run_dir.name)
    assert_complete(run_dir, 6)
    again = cli("run", cwd=tmp_path)
    assert "6 jobs: 0 done now, 6 already done" in again.stdout
    assert list((tmp_path / "runs").iterdir()) == [run_dir]


def test_added_axis_value_leaves_old_jobs_and_files_untouched(tmp_path: Path, tiny_sd_path: Path) -> None:
    assert cli("run", "seed=0,1", "steps=2", "run.dir=r", cwd=tmp_path).returncode == 0
    run_dir = tmp_path / "r"
    before = {p.name: p.stat().st_mtime_ns for p in (run_dir / "outputs").iterdir()}
    old = {job_id: row["seed"] for job_id, row in jobs(run_dir).items()}
    result = cli("run", "steps=2", "seed=2,1,0", "run.dir=r", cwd=tmp_path)
    assert "3 jobs: 1 done now, 2 already done" in result.stdout
    new = {job_id: row["seed"] for job_id, row in jobs(run_dir).items()}
    assert old.items() <= new.items() and len(new) == 3
    after = {p.name: p.stat().st_mtime_ns for p in (run_dir / "outputs").iterdir()}
    assert before.items() <= after.items()
    dry = cli("run", "seed=1,0", "steps=2", "run.dry_run=true", "run.sample=10", cwd=tmp_path)
    assert set(re.findall(r"\b[0-9a-f]{20}\b", dry.stdout)) == set(old)


def test_dry_run_prints_count_and_sample_and_writes_nothing(tmp_path: Path) -> None:
    result = cli("run", "prompt=a red fox", "seed=range(0,4)", "guidance_scale=5,7.5", "run.dry_run=true",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dry run: 8 jobs (0 duplicates collapsed) in 1 backend group(s)")
    assert len(re.findall(r"^  [0-9a-f]{20}  tiny-sd", result.stdout, re.M)) == 5
    assert "... and 3 more" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_dry_run_lists_a_repeated_job_once(tmp_path: Path) -> None:
    result = cli("run", "prompt=a red fox", "seed=1,1,2", "run.dry_run=true", cwd=tmp_path)
    assert result.stdout.startswith("dry run: 2 jobs (1 duplicates collapsed)")
    assert re.findall(r"seed=(\d+)", result.stdout) == ["1", "2"]


def test_cfg_job_and_help(tmp_path: Path) -> None:
    result = cli("run", "--cfg", "job", "model=tiny-sd-alt", "seed=range(0,4)", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "name: tiny-sd-alt" in result.stdout and "seed: range(0,4)" in result.stdout
    help_text = cli("run", "--help", cwd=tmp_path).stdout
    assert "== Configuration groups ==" in help_text
    assert re.search(r"^model: .*tiny-sd-alt", help_text, re.M)
    assert re.search(r"^\+experiment: .*quickstart", help_text, re.M)
    assert re.search(r"^backend: diffusers, openai, sdcpp$", help_text, re.M)
    assert re.search(r"^run: default$", help_text, re.M)
    assert list(tmp_path.iterdir()) == []


def test_local_conf_is_found_with_no_flag_and_wins_over_the_package(tmp_path: Path) -> None:
    model = "source: builtin:tiny-sd\ntasks: [text_to_image]\nparam_defaults: {width: 32, height: 32}\n"
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "mine.yaml").write_text(f"name: mine\n{model}")
    (tmp_path / "conf" / "model" / "tiny-sd.yaml").write_text(f"name: tiny-sd\n{model}")
    (tmp_path / "conf" / "experiment").mkdir()
    (tmp_path / "conf" / "experiment" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /model: mine\nprompt: from my experiment\n"
    )
    result = cli("run", "--cfg", "job", "+experiment=mine", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "name: mine" in result.stdout and "prompt: from my experiment" in result.stdout
    result = cli("run", "--cfg", "job", "model=tiny-sd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "width: 32" in result.stdout and "width: 64" not in result.stdout
    help_text = cli("run", "--help", cwd=tmp_path).stdout
    assert re.search(r"^model: .*\bmine\b", help_text, re.M) and re.search(
        r"^\+experiment: .*\bmine\b", help_text, re.M
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]


def test_config_dir_adds_a_model(tmp_path: Path, tiny_sd_path: Path) -> None:
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "mine.yaml").write_text(
        "name: mine\nsource: builtin:tiny-sd\ntasks: [text_to_image]\n"
        "param_defaults: {width: 32, height: 32, steps: 1}\n"
    )
    result = cli("run", "--config-dir", "conf", "model=mine", "run.dir=r", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = jobs(tmp_path / "r").values()
    assert row["model"] == "mine" and json.loads(row["params"])["params"]["width"] == 32


def test_inpainting_job_is_identified_by_image_content_not_path(tmp_path: Path, tiny_sd_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 64), "blue").save(tmp_path / "in.png")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    mask.save(tmp_path / "mask.png")
    args = ("run", "task=image_to_image", "mask=mask.png", "strength=0.6", "seed=1", "run.dir=r")
    result = cli(*args, "image=in.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = jobs(tmp_path / "r").values()
    params = json.loads(row["params"])["params"]
    assert params["image"].startswith("sha256:") and params["mask"].startswith("sha256:")
    assert json.loads(row["inputs"]) == {"image": str(tmp_path / "in.png"), "mask": str(tmp_path / "mask.png")}
    (tmp_path / "in.png").rename(tmp_path / "moved.png")
    again = cli(*args, "image=moved.png", cwd=tmp_path)
    assert "1 jobs: 0 done now, 1 already done" in again.stdout
