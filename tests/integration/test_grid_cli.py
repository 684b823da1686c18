"""``abstractvision grid`` on a real tiny-sd sweep run through the CLI: sheet sizes follow the axes, every image
appears (the unplaced seed axis gives a sheet per seed), and prompts keep the prompt file's order."""

from __future__ import annotations

import subprocess
import sys

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
