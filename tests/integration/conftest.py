"""Run folders that several test modules read (grid, export, gallery, verify), each made once per session by
the real runner on the tiny builtin models: a video run and a view-set run."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import make_run


@pytest.fixture(scope="session")
def video_run(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """Two tiny Wan text-to-video clips (MP4, 5 frames, with their frame PNGs), seeds 0 and 1."""
    pytest.importorskip("imageio_ffmpeg")
    folder = tmp_path_factory.mktemp("video-run")
    return make_run(folder, "model=tiny-wan-t2v", "task=text_to_video", "prompt=a red fox", "num_frames=5",
                    "frame_pngs=true", "steps=2", "seed=0,1")  # fmt: skip


@pytest.fixture(scope="session")
def view_run(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """Two tiny-sd view sets (front and an explicit 22.5 degree view, whose label has a dot), seeds 0 and 1."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("view-run")
    Image.new("RGB", (64, 64), (30, 120, 200)).save(folder / "ref.png")
    return make_run(folder, "task=multi_view_image", "angles=[front,{azimuth:22.5,elevation:0}]",
                    f"image={folder / 'ref.png'}", "prompt=a red fox", "steps=2", "seed=0,1")  # fmt: skip
