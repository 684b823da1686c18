"""``RunItem`` loads what a job wrote only when asked: images, several images, video frames (GIF, MP4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.results import RunItem


def item(run_dir: Path, name: str, task: str = "text_to_image", files: list[str] | None = None) -> RunItem:
    outputs = run_dir / "outputs"
    if files is not None:
        sidecar = {"files": [{"path": f"outputs/{f}"} for f in files]}
        (outputs / "j1.json").write_text(json.dumps(sidecar))
    return RunItem("j1", "tiny-sd", task, 0, {}, {}, outputs / name, run_dir)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "outputs").mkdir()
    return tmp_path


def test_image_loads_on_access_and_closes_its_file(run_dir: Path) -> None:
    Image.new("RGB", (8, 16), (10, 20, 30)).save(run_dir / "outputs" / "j1.png")
    single = item(run_dir, "j1.png")
    assert single.paths == [single.path]  # no sidecar: the main output only
    loaded = single.image
    assert loaded.size == (8, 16) and loaded.getpixel((0, 0)) == (10, 20, 30)
    (run_dir / "outputs" / "j1.png").unlink()  # nothing kept it open or cached
    with pytest.raises(FileNotFoundError):
        item(run_dir, "j1.png").image  # noqa: B018


def test_paths_and_images_come_from_the_sidecar(run_dir: Path) -> None:
    for i, name in enumerate(["j1.png", "j1-1.png"]):
        Image.new("RGB", (8, 8), (i, i, i)).save(run_dir / "outputs" / name)
    views = item(run_dir, "j1.png", "multi_view_image", files=["j1.png", "j1-1.png"])
    assert views.paths == [run_dir / "outputs" / "j1.png", run_dir / "outputs" / "j1-1.png"]
    assert [image.getpixel((0, 0)) for image in views.images] == [(0, 0, 0), (1, 1, 1)]


def test_gif_frames_and_a_video_has_no_single_image(run_dir: Path) -> None:
    frames = [Image.new("RGB", (8, 8), (c, 0, 0)) for c in (0, 128, 255)]
    frames[0].save(run_dir / "outputs" / "j1.gif", save_all=True, append_images=frames[1:], duration=100)
    video = item(run_dir, "j1.gif", "text_to_video")
    assert [frame.getpixel((0, 0))[0] for frame in video.frames()] == [0, 128, 255]
    with pytest.raises(InvalidParameterError, match=r"`image`: job j1 \(text_to_video\) is a video; use .frames\(\)"):
        video.image  # noqa: B018


def test_mp4_frames_with_the_video_extra(run_dir: Path) -> None:
    iio = pytest.importorskip("imageio.v3", reason="needs the video extra")
    pytest.importorskip("imageio_ffmpeg", reason="needs the video extra")
    import numpy as np

    frames = np.stack([np.full((16, 16, 3), c, dtype=np.uint8) for c in (0, 250)])
    iio.imwrite(run_dir / "outputs" / "j1.mp4", frames, fps=4)
    decoded = item(run_dir, "j1.mp4", "text_to_video").frames()
    assert len(decoded) == 2 and decoded[0].size == (16, 16)
    assert decoded[0].getpixel((8, 8))[0] < 20 < 230 < decoded[1].getpixel((8, 8))[0]
