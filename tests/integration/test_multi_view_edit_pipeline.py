"""The dedicated multi-view strategy through the model config: a named edit pipeline class and its view prompt.

The real model (Qwen-Image-Edit with a multiple-angles LoRA) needs the hub; tiny-sd's folder loaded as
``StableDiffusionImg2ImgPipeline`` stands in on the same code path: the model config names the class, the
backend loads it instead of deriving image-to-image, and every view edits the reference image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import abstractvision
from abstractvision.errors import InvalidParameterError
from abstractvision.media.png import read_png_record

pytest.importorskip("diffusers")

EDIT_MODEL = """name: tiny-sd-views
source: builtin:tiny-sd
family: sd1
tasks: [multi_view_image]
backends: [diffusers]
edit_pipeline: StableDiffusionImg2ImgPipeline
view_prompt: "{prompt}, <sks> turn the camera to {azimuth:g} degrees"
param_defaults: {width: 64, height: 64, steps: 2, guidance_scale: 7.5, strength: 0.5}
"""
ANGLES = "angles=[front,{azimuth:90}]"


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "tiny-sd-views.yaml").write_text(EDIT_MODEL)
    Image.new("RGB", (64, 64), (30, 120, 200)).save(tmp_path / "ref.png")
    return tmp_path / "conf"


def test_the_model_configs_edit_pipeline_makes_every_view_from_the_reference(conf: Path, tmp_path: Path) -> None:
    overrides = ["model=tiny-sd-views", "task=multi_view_image", "prompt=a teapot", ANGLES, "seed=1"]
    (item,) = abstractvision.run(
        [*overrides, f"image={tmp_path / 'ref.png'}"], config_dirs=[conf], run_dir=tmp_path / "r"
    )
    sidecar = json.loads(item.sidecar.read_text())
    views = [f for f in sidecar["files"] if f.get("view")]
    assert [v["view"] for v in views] == ["front", "az90_el0"]
    records = [read_png_record((tmp_path / "r" / v["path"]).read_bytes()) for v in views]
    assert {r["pipeline"] for r in records} == {"StableDiffusionImg2ImgPipeline"}
    assert {r["strategy"] for r in records} == {"edit_pipeline"}
    assert records[1]["view"]["prompt"] == "a teapot, <sks> turn the camera to 90 degrees"
    assert records[1]["params"]["strength"] == 0.5 and records[1]["params"]["image_sha256"]


def test_the_edit_pipeline_is_in_the_job_id_and_views_need_a_reference(conf: Path) -> None:
    image = "image=ref.png"
    ours = abstractvision.plan(["model=tiny-sd-views", "task=multi_view_image", ANGLES, image], config_dirs=[conf])
    plain = conf / "model" / "tiny-sd-views.yaml"
    plain.write_text(EDIT_MODEL.replace("edit_pipeline: StableDiffusionImg2ImgPipeline\n", ""))
    theirs = abstractvision.plan(["model=tiny-sd-views", "task=multi_view_image", ANGLES, image], config_dirs=[conf])
    assert ours.sample[0].job_id != theirs.sample[0].job_id
    plain.write_text(EDIT_MODEL)
    with pytest.raises(InvalidParameterError, match=r"`image`: model 'tiny-sd-views' makes views by editing"):
        abstractvision.plan(["model=tiny-sd-views", "task=multi_view_image", ANGLES], config_dirs=[conf])
