"""The commands and Python snippets of docs/datasets.md and docs/review.md, run as written (in a fresh folder
holding the repository's conf/), on real tiny-sd runs."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def blocks(doc: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "docs" / doc).read_text(), flags=re.S)


def run_commands(doc: str, cwd: Path) -> list[str]:
    outputs = []
    for block in blocks(doc, "bash"):
        for line in block.strip().splitlines():
            args = shlex.split(line)
            assert args[0] == "abstractvision", line
            done = subprocess.run([sys.executable, "-m", "abstractvision.cli", *args[1:]], cwd=cwd,
                                  capture_output=True, text=True, timeout=600)  # fmt: skip
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
    return outputs


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_sd_path")
def test_datasets_doc(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    outputs = run_commands("datasets.md", tmp_path)
    assert "exported 4 files of 4 jobs" in outputs[4]  # split=train: fox and wolf, two guidance scales
    assert "exported 2 files of 2 jobs" in outputs[-1]  # two clips, without their frame PNGs
    [snippet] = blocks("datasets.md", "python")
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["6 a red fox in the snow fox (64, 64)", "6 double"]


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_sd_path")
def test_review_doc(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    outputs = run_commands("review.md", tmp_path)
    assert "12 images on 2 sheet(s) (x=prompt, y=guidance_scale; a sheet per seed)" in outputs[1]
    assert "3 of 3 jobs reproduced" in outputs[2]
    assert "(12 items)" in outputs[3]
    with Image.open(tmp_path / "runs/review/grid-1.png") as made, Image.open(ROOT / "docs/img/grid.png") as shown:
        assert made.size == shown.size  # the picture in the docs is this command's
    assert "2 jobs on 1 sheet(s) (x=seed)" in outputs[-1]  # the view sets, each a row
    with Image.open(tmp_path / "runs/views/grid.png") as made, Image.open(ROOT / "docs/img/grid-views.png") as shown:
        assert made.size == shown.size
