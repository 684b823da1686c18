"""``abstractvision grid`` on a real tiny-sd sweep run through the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from abstractvision.cli import main


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_sd_path")
def test_grid_of_a_real_sweep(tmp_path, capsys):
    run_dir = tmp_path / "fox"
    subprocess.run(
        [sys.executable, "-m", "abstractvision.cli", "run", "prompt=a red fox", "seed=0,1", "guidance_scale=5,7.5",
         "steps=2", f"run.dir={run_dir}", "run.progress=false"],
        check=True, capture_output=True,
    )  # fmt: skip
    assert main(["grid", str(run_dir), "--cell-size", "64"]) == 0
    assert "4 images" in capsys.readouterr().out
    sheet = Image.open(run_dir / "grid.png")
    assert sheet.height == 14 + 8 + 2 * (64 + 4)

    assert main(["grid", str(tmp_path / "nothing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err
