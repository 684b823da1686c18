"""Every tiny video family through the real CLI: AnimateDiff, LTX-Video and CogVideoX, text and image to video.

One run per task sweeps the models (one process, one group per model); each file is read back with imageio.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import cli, jobs

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
    tmp_path: Path, task: str, models: dict[str, tuple[int, int, int]], inputs: list[str]
) -> None:
    from PIL import Image

    Image.new("RGB", (48, 48), (200, 30, 30)).save(tmp_path / "ref.png")
    args = (f"model={','.join(models)}", f"task={task}", "prompt=a red fox", "seed=0", *inputs, "run.dir=out")
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["model"]: row for row in jobs(tmp_path / "out").values()}
    assert sorted(rows) == sorted(models) and {r["status"] for r in rows.values()} == {"done"}
    for model, (frames, width, height) in models.items():
        reader = imageio.get_reader(tmp_path / "out" / rows[model]["output"], "ffmpeg")
        meta = reader.get_meta_data()
        assert (reader.count_frames(), tuple(meta["size"]), meta["fps"]) == (frames, (width, height), 8), model
        reader.close()
