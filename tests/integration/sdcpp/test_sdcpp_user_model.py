"""A user model from a temporary --config-dir, with its own component file, reaches stable-diffusion.cpp whole:
the metadata, the job identity and the engine's own log all name exactly that file."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner

pytestmark = [pytest.mark.sdcpp, pytest.mark.slow]


def test_user_model_components_are_the_files_that_load(
    mode_options: dict[str, Any], sd1_model: Path, tmp_path: Path
) -> None:
    vae = tmp_path / "my-vae.safetensors"
    shutil.copyfile(sd1_model / "vae" / "diffusion_pytorch_model.safetensors", vae)
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "mine.yaml").write_text(
        f"name: mine\nsource: {sd1_model}\ntasks: [text_to_image]\nbackends: [sdcpp]\n"
        f"components:\n  vae: {vae}\nparam_defaults:\n  width: 64\n  height: 64\n  steps: 1\n  guidance_scale: 1.0\n"
    )
    options = [f"backend.{key}={value}" for key, value in mode_options.items()]
    overrides = ["backend=sdcpp", "model=mine", *options, "seed=3", f"run.dir={tmp_path / 'r'}", "run.progress=false"]
    summary = Runner(load_run_config(overrides, [conf]), out=io.StringIO()).run()
    assert summary.done == 1, summary.failures
    (sidecar,) = (tmp_path / "r" / "outputs").glob("*.json")
    record = json.loads(sidecar.read_text())
    assert record["model_files"] == {"model": str(sd1_model), "vae": str(vae)}
    assert record["engine_loaded"]["vae"] == str(vae)
    assert record["job"]["options"]["files"]["vae"].startswith("sha256:")
