"""Every tiny video family through the runner: AnimateDiff, LTX-Video and CogVideoX, text and image to video.

One run per task sweeps the models (one group, so one pipeline load, per model); each file is read back
with imageio.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import abstractvision

pytest.importorskip("diffusers")
imageio = pytest.importorskip("imageio")
pytest.importorskip("imageio_ffmpeg")

#: model -> (frames, width, height): the model config's defaults
TEXT_TO_VIDEO = {"tiny-animatediff": (8, 64, 64), "tiny-ltx-video": (9, 64, 64), "tiny-cogvideox-t2v": (9, 32, 32)}
IMAGE_TO_VIDEO = {"tiny-ltx-video": (9, 64, 64), "tiny-cogvideox-i2v": (9, 32, 32)}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "models", "inputs"),
    [("text_to_video", TEXT_TO_VIDEO, []), ("image_to_video", IMAGE_TO_VIDEO, ["image=ref.png"])],
)
def test_each_tiny_family_makes_the_video_its_config_asks_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task: str,
    models: dict[str, tuple[int, int, int]],
    inputs: list[str],
) -> None:
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (48, 48), (200, 30, 30)).save("ref.png")
    overrides = [f"model={','.join(models)}", f"task={task}", "prompt=a red fox", "seed=0", *inputs]
    items = {item.model: item for item in abstractvision.run(overrides, run_dir="out", progress=False)}
    assert sorted(items) == sorted(models)
    for model, (frames, width, height) in models.items():
        reader = imageio.get_reader(items[model].path, "ffmpeg")
        meta = reader.get_meta_data()
        assert (reader.count_frames(), tuple(meta["size"]), meta["fps"]) == (frames, (width, height), 8), model
        reader.close()
