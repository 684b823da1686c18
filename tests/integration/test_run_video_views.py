"""Video and multi-view jobs through the real CLI: files in the run folder, sweeps over input folders, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_helpers import cli, jobs

pytest.importorskip("diffusers")
imageio = pytest.importorskip("imageio")
pytest.importorskip("imageio_ffmpeg")


def write_images(folder: Path, count: int) -> None:
    from PIL import Image

    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (64, 64), (60 * i, 100, 200)).save(folder / f"in{i}.png")
    (folder / "notes.txt").write_text("not an image")


def test_a_folder_of_images_becomes_one_image_to_video_job_each(tmp_path: Path) -> None:
    write_images(tmp_path / "inputs", 2)
    result = cli("run", "model=tiny-wan-i2v", "task=image_to_video", "image=inputs", "run.dir=out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = jobs(tmp_path / "out")
    assert len(rows) == 2 and {r["status"] for r in rows.values()} == {"done"}
    assert sorted(Path(json.loads(r["inputs"])["image"]).name for r in rows.values()) == ["in0.png", "in1.png"]
    for job_id, row in rows.items():
        assert row["output"] == f"outputs/{job_id}.mp4"
        reader = imageio.get_reader(tmp_path / "out" / row["output"], "ffmpeg")
        assert reader.count_frames() == 9 and reader.get_meta_data()["fps"] == 8
        reader.close()
        sidecar = json.loads((tmp_path / "out" / "outputs" / f"{job_id}.json").read_text())
        assert sidecar["files"][0]["mime"] == "video/mp4" and sidecar["job"]["task"] == "image_to_video"


def test_a_view_set_is_one_job_with_a_file_per_view_and_a_sheet_and_resumes_file_by_file(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 64), (30, 120, 200)).save(tmp_path / "ref.png")
    args = ("run", "task=multi_view_image", "angles=[front,side,{azimuth:30,elevation:15}]", "image=ref.png")
    result = cli(*args, "run.dir=out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ((job_id, row),) = jobs(tmp_path / "out").items()
    outputs = tmp_path / "out" / "outputs"
    views = ["front", "side", "az30_el15"]
    assert sorted(p.name for p in outputs.iterdir()) == sorted(
        [f"{job_id}.png", f"{job_id}.json", *(f"{job_id}-{v}.png" for v in views)]
    )
    assert row["output"] == f"outputs/{job_id}.png"  # the contact sheet
    sidecar = json.loads((outputs / f"{job_id}.json").read_text())
    assert [f.get("view") for f in sidecar["files"]] == [None, *views]
    with Image.open(outputs / f"{job_id}.png") as sheet:
        assert sheet.width > 3 * 64
    side = (outputs / f"{job_id}-side.png").read_bytes()

    (outputs / f"{job_id}-side.png").unlink()
    again = cli(*args, "run.dir=out", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 done now" in again.stdout and "missing or corrupt" in again.stderr
    assert (outputs / f"{job_id}-side.png").read_bytes() == side  # same seed: the same view again


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=tiny-wan-t2v", "task=text_to_video", "num_frames=8"], "`num_frames`: model 'tiny-wan-t2v' (wan)"),
        (["model=tiny-wan-t2v", "task=text_to_video", "width=40"], "`width`: must be a positive multiple of 16"),
        (["model=tiny-wan-t2v", "task=text_to_video", "fps=0"], "`fps`: must be an integer >= 1, got 0"),
        (["model=tiny-wan-t2v", "task=text_to_video", "output_format=avi"], "`output_format`: unknown video format"),
        (["model=tiny-wan-i2v", "task=image_to_video", "image=missing.png"], "`image`: cannot read 'missing.png'"),
        (["model=tiny-wan-i2v", "task=image_to_video", "image=bad.png"], "`image`: does not decode as an image"),
        (["model=tiny-wan-i2v", "task=image_to_video", "image=empty"], "`image`: the folder 'empty' holds no image"),
        (["task=multi_view_image", "angles=[fronte]"], "`angles[0]`: unknown view 'fronte'"),
        (["task=multi_view_image", "angles=[{azimuth:30,elevation:95}]"], "`angles[0].elevation`: must be a number"),
        (["model=tiny-sd", "task=image_to_video"], "model 'tiny-sd' does not support task 'image_to_video'"),
    ],
)
def test_bad_video_and_view_input_is_refused_before_anything_is_written(
    tmp_path: Path, overrides: list[str], message: str
) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "empty").mkdir()
    result = cli("run", *overrides, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png", "empty"]


def test_a_video_with_its_frame_pngs_is_one_job_verified_file_by_file(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    args = ("run", "model=tiny-wan-t2v", "task=text_to_video", "num_frames=5", "frame_pngs=true", "output_format=gif")
    result = cli(*args, "run.dir=out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ((job_id, row),) = jobs(tmp_path / "out").items()
    outputs = tmp_path / "out" / "outputs"
    frames = [f"{job_id}-frame{i:04d}.png" for i in range(5)]
    assert sorted(p.name for p in outputs.iterdir()) == sorted([f"{job_id}.gif", f"{job_id}.json", *frames])
    assert row["output"] == f"outputs/{job_id}.gif"
    with Image.open(outputs / frames[0]) as png, Image.open(outputs / f"{job_id}.gif") as gif:
        assert png.size == gif.size == (64, 64)
        # GIF quantises to 256 colours: close to the exact frame, not equal
        assert np.abs(np.asarray(png, dtype=int) - np.asarray(gif.convert("RGB"), dtype=int)).mean() < 12

    (outputs / frames[3]).unlink()
    again = cli(*args, "run.dir=out", cwd=tmp_path)
    assert again.returncode == 0 and "1 done now" in again.stdout
    assert (outputs / frames[3]).is_file()
