"""A model the chosen backend cannot run, or a task it cannot do, fails in the dry run with one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import abstractvision
from abstractvision.cli import main


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["backend=sdcpp", "model=sd-turbo"],
            "model 'sd-turbo' runs on backend(s) ['diffusers', 'openai'], not 'sdcpp': set backend=diffusers, or pick "
            "a model the sdcpp backend runs: ['flux1-schnell-gguf', 'qwen-image-gguf', 'sd1-layout', 'sd15', "
            "'sd15-gguf', 'sdxl', 'sdxl-gguf']",
        ),
        (
            ["model=sd15-gguf"],
            "model 'sd15-gguf' runs on backend(s) ['sdcpp'], not 'diffusers': set backend=sdcpp, or pick a model "
            "the diffusers backend runs: ['animatediff-v15', 'cogvideox-2b', 'cogvideox-5b-i2v', 'ltx-video', "
            "'qwen-image-edit-multiangle', 'sd-turbo', 'sd15', 'sdxl', 'sdxl-turbo', 'svd-xt', 'tiny-animatediff', "
            "'tiny-cogvideox-i2v', "
            "'tiny-cogvideox-t2v', 'tiny-ltx-video', 'tiny-sd', 'tiny-sd-alt', 'tiny-svd', 'tiny-wan-i2v', "
            "'tiny-wan-t2v', 'wan21-i2v-14b-480p', 'wan21-t2v-1.3b']",
        ),
        (["task=text_to_video"], "model 'tiny-sd' does not support task 'text_to_video'"),
    ],
)
def test_mismatch_fails_in_the_dry_run(
    overrides: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "r"
    code = main(["run", *overrides, "run.dry_run=true", f"run.dir={run_dir}"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not run_dir.exists()


def test_user_models_are_suggested_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text("name: mine\nsource: /m\ntasks: [text_to_image]\nbackends: [sdcpp]\n")
    code = main(["run", "--config-dir", str(tmp_path), "model=sd-turbo", "backend=sdcpp", "run.dry_run=true"])
    assert code == 2 and "'mine'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("size", "field"),
    [(["width=512"], "width"), (["height=512"], "height"), (["width=480", "height=720"], "width")],
)
def test_a_model_of_one_size_refuses_others_in_the_dry_run(
    size: list[str], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CogVideoX 5B I2V's learned positional embeddings make diffusers raise at other sizes, after the 5B model
    has loaded and the image is encoded: the plan refuses them first."""
    image = tmp_path / "start.png"
    Image.new("RGB", (64, 64)).save(image)
    overrides = ["model=cogvideox-5b-i2v", "task=image_to_video", f"image={image}", *size]
    code = main(["run", *overrides, "run.dry_run=true", f"run.dir={tmp_path / 'r'}"])
    error = capsys.readouterr().err
    assert code == 2
    assert f"`{field}`" in error and "makes only 720x480" in error and "set width=720 height=480" in error


def test_a_model_of_one_size_plans_at_that_size(tmp_path: Path) -> None:
    image = tmp_path / "start.png"
    Image.new("RGB", (64, 64)).save(image)
    plan = abstractvision.plan(["model=cogvideox-5b-i2v", "task=image_to_video", f"image={image}", "seed=range(0,2)"])
    assert plan.jobs == 2
