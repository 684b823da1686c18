"""What other tools see of a run's files, through the real CLI: PNG text chunks readable without decoding
the pixels, web-UI sampler names, and file modes that follow the umask."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from PIL import Image
from run_helpers import outputs

ARGS = ["prompt=a red fox", "seed=0", "steps=2", "backend.scheduler=euler_a", "run.progress=false"]


def run(cwd: Path, name: str, umask: int) -> Path:
    command = [sys.executable, "-m", "abstractvision.cli", "run", *ARGS, f"run.dir={name}"]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=240, umask=umask)
    assert result.returncode == 0, result.stderr
    return cwd / name


def test_png_chunks_come_first_names_match_the_web_uis_and_modes_follow_the_umask(tmp_path: Path) -> None:
    shared, private = run(tmp_path, "shared", 0o022), run(tmp_path, "private", 0o077)
    [png] = (shared / "outputs").glob("*.png")
    with Image.open(png) as image:  # not loaded: only the chunks before IDAT are read
        parameters = image.info["parameters"]
        assert "abstractvision" in image.info
    assert parameters.startswith("a red fox\nSteps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: 0, Size: 64x64")
    pngs = [{k: v for k, v in outputs(folder).items() if k.endswith(".png")} for folder in (shared, private)]
    assert pngs[0] == pngs[1]  # the same bytes whatever the folder or the umask (sidecars hold timings)
    for folder, mode in ((shared, 0o644), (private, 0o600)):
        for path in (folder / "outputs").iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == mode, path
