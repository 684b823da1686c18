"""``abstractvision grid`` on a real tiny-sd sweep run through the CLI: sheet sizes follow the axes, every image
appears (the unplaced seed axis gives a sheet per seed), and prompts keep the prompt file's order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from abstractvision.cli import main
from abstractvision.outputs.grid import GAP, LINE, _thumbnail
from abstractvision.pipeline.run_dir import RunDir


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_sd_path")
def test_grid_of_a_real_sweep(tmp_path, capsys):
    run_dir = tmp_path / "zoo"
    (tmp_path / "prompts.txt").write_text("a zebra\nan apple\n")  # not alphabetical: the sheet keeps this order
    subprocess.run(
        [sys.executable, "-m", "abstractvision.cli", "run", f"sweep.file={tmp_path / 'prompts.txt'}", "seed=0,1",
         "guidance_scale=5,7.5", "steps=2", f"run.dir={run_dir}", "run.progress=false"],
        check=True, capture_output=True,
    )  # fmt: skip
    assert main(["grid", str(run_dir), "--x", "prompt", "--y", "guidance_scale", "--cell-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "8 images on 2 sheet(s) (x=prompt, y=guidance_scale; a sheet per seed)" in out
    assert "grid-1.png (4 images, " in out and "seed=0" in out and "grid-2.png (4 images, " in out
    sheets = [Image.open(run_dir / f"grid-{n}.png").convert("RGB") for n in (1, 2)]
    title, header = LINE + 2 * GAP, 2 * LINE + GAP  # a title line, then x labels wrapped on two lines
    assert [s.height for s in sheets] == [title + header + 2 * (64 + GAP)] * 2

    manifest = RunDir(run_dir).open_readonly()
    try:
        zebra = next(r for r in manifest.records("done", {"prompt": "a zebra", "seed": 0, "guidance_scale": 5}))
    finally:
        manifest.close()
    margin = sheets[0].width - 2 * (64 + GAP)
    first_cell = sheets[0].crop((margin, title + header, margin + 64, title + header + 64))
    assert first_cell.tobytes() == _thumbnail(run_dir / zebra["output"], 64).tobytes()

    assert main(["grid", str(run_dir), "--where", "seed=1", "--out", str(tmp_path / "one.png")]) == 0
    assert "4 images on 1 sheet(s)" in capsys.readouterr().out and (tmp_path / "one.png").is_file()
    assert main(["grid", str(run_dir), "--where", "cfg=7"]) == 2
    assert "`--where`: 'cfg' is not a field of this run; its fields are" in capsys.readouterr().err
    assert main(["grid", str(run_dir), "--x", "steps"]) == 2
    assert "'steps' does not vary in this run; varying axes are ['seed', 'guidance_scale', 'prompt']" in (
        capsys.readouterr().err
    )
    assert main(["grid", str(tmp_path / "nothing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_a_video_cell_is_its_middle_frame(video_run: Path, capsys) -> None:
    from abstractvision.media.frames import iter_frames, middle_frame
    from abstractvision.media.images import square_thumbnail

    assert main(["grid", str(video_run), "--cell-size", "64"]) == 0
    assert "2 jobs on 1 sheet(s) (x=seed)" in capsys.readouterr().out
    sheet = Image.open(video_run / "grid.png").convert("RGB")
    top = LINE + GAP + GAP  # no title; one line of x labels
    assert sheet.size == (sheet.width, top + 64 + GAP) and sheet.width == 3 * GAP + 2 * (64 + GAP)
    manifest = RunDir(video_run).open_readonly()
    try:
        first = next(r for r in manifest.records("done") if r["seed"] == 0)
    finally:
        manifest.close()
    clip = video_run / first["output"]
    frames = list(iter_frames(clip, ".mp4"))
    assert len(frames) == 5 and middle_frame(clip).tobytes() == frames[2].tobytes()
    expected = square_thumbnail(frames[2], 64, (255, 255, 255)).crop((0, 0, 64, 64 - LINE - 1))
    left = 3 * GAP  # no y axis: an empty label margin
    assert sheet.crop((left, top, left + 64, top + 64 - LINE - 1)).tobytes() == expected.tobytes()


def test_a_view_set_is_a_row_of_its_views(view_run: Path, capsys) -> None:
    assert main(["grid", str(view_run), "--cell-size", "64", "--out", str(view_run / "views.png")]) == 0
    assert "2 jobs on 1 sheet(s) (x=seed)" in capsys.readouterr().out
    sheet = Image.open(view_run / "views.png").convert("RGB")
    top, left, across = LINE + GAP + GAP, 3 * GAP, 2 * 64 + GAP  # each column two views wide
    assert sheet.size == (left + 2 * across, top + 64 + GAP)
    manifest = RunDir(view_run).open_readonly()
    try:
        records = sorted(manifest.records("done"), key=lambda r: r["seed"])
    finally:
        manifest.close()
    for column, record in enumerate(records):
        for i, view in enumerate(["front", "az22.5_el0"]):
            x = left + column * across + i * 64
            stored = _thumbnail(view_run / "outputs" / f"{record['job_id']}-{view}.png", 64)
            assert sheet.crop((x, top, x + 64, top + 40)).tobytes() == stored.crop((0, 0, 64, 40)).tobytes()
