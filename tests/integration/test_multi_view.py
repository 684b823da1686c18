"""Multi-view on the real tiny-sd pipeline: one labelled image per view, one shared seed."""

from __future__ import annotations

import dataclasses

import pytest

from abstractvision import HuggingFaceDiffusersBackendConfig, HuggingFaceDiffusersVisionBackend, VisionManager
from abstractvision.errors import InvalidParameterError
from abstractvision.media.png import encode_png, read_png_record

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def manager() -> VisionManager:
    config = HuggingFaceDiffusersBackendConfig(model_id="tiny-sd", device="cpu")
    return VisionManager(HuggingFaceDiffusersVisionBackend(config))


def test_each_view_is_an_image_labelled_with_its_view(manager: VisionManager) -> None:
    views = manager.generate_angles("a red fox", angles=["front", {"azimuth": 90, "elevation": 30}], seed=5)
    assert [a.metadata["view"]["label"] for a in views] == ["front", "az90_el30"]
    assert views[1].metadata["view"]["prompt"] == (
        "a red fox, side view, seen from 90 degrees azimuth and 30 degrees elevation"
    )
    assert {a.metadata["seed"] for a in views} == {5}  # one shared seed
    assert all(a.metadata["task"] == "multi_view_image" and a.mime_type == "image/png" for a in views)
    assert read_png_record(views[0].data)["view"]["label"] == "front"  # the view travels in the file too
    assert views[0].data != views[1].data


def test_a_reference_image_is_every_views_starting_image(manager: VisionManager) -> None:
    from PIL import Image

    reference = encode_png(Image.new("RGB", (64, 64), (20, 90, 200)), {})
    first = manager.generate_angles("a red fox", reference_image=reference, angles=["front", "back"], seed=1)
    again = manager.generate_angles("a red fox", reference_image=reference, angles=["front", "back"], seed=1)
    assert [a.data for a in first] == [a.data for a in again]
    assert first[0].metadata["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert first[0].metadata["params"]["strength"] == 0.75  # the model's default, filled once by the manager


def test_a_view_that_is_not_understood_is_refused_before_loading() -> None:
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"))
    with pytest.raises(InvalidParameterError, match="`angles\\[1\\]`: unknown view 'behind'"):
        VisionManager(backend).generate_angles("a fox", angles=["front", "behind"])
    assert not backend._pipelines


def test_the_python_example_of_the_multi_view_docs_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "multi-view.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", docs, re.S)
    exec(compile(example, "docs/multi-view.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "['front', 'az90_el30']"


def test_a_model_trained_for_views_sets_its_own_view_prompt(tmp_path) -> None:
    """The dedicated-model strategy through the model config: the view phrasing its LoRA was trained on."""
    from abstractvision.registry import ModelRegistry

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "views.yaml").write_text(
        "name: tiny-views\nsource: builtin:tiny-sd\nfamily: sd1\ntasks: [multi_view_image]\n"
        "view_prompt: '{prompt} <sks> camera at azimuth {azimuth:g}, elevation {elevation:g}'\n"
        "param_defaults: {width: 64, height: 64, steps: 2}\n"
    )
    spec = ModelRegistry([tmp_path]).get("tiny-views")
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"), model=spec)
    (view,) = VisionManager(backend).generate_angles("a teapot", angles=[{"azimuth": 45, "elevation": 10}], seed=0)
    assert view.metadata["view"]["prompt"] == "a teapot <sks> camera at azimuth 45, elevation 10"
    assert view.metadata["view_prompt"] == spec.view_prompt

    bad = HuggingFaceDiffusersVisionBackend(
        HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"),
        model=dataclasses.replace(spec, view_prompt="{prompt} {angle}"),
    )
    with pytest.raises(InvalidParameterError) as info:
        VisionManager(bad).generate_angles("a teapot", angles=["front"])
    assert info.value.field == "model.view_prompt" and "'{prompt} {angle}' is not a valid template" in str(info.value)
