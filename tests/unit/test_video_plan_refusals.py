"""A video or multi-view task that the backend or model cannot do is refused when the run is planned.

Through the CLI (in process), as a dry run and as a run: exit 2, one message naming the fix, nothing written,
no server contacted (the openai backend points at a closed port).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abstractvision.cli import main

OPENAI = ["backend=openai", "backend.base_url=http://127.0.0.1:9/v1", "model=tiny-wan-t2v", "task=text_to_video"]
OPENAI_VIDEO = [*OPENAI, "backend.text_to_video_path=/videos"]
SDCPP_WAN = """name: wan-gguf
source: ./models/wan2.1-i2v-14b-480p-Q4_0.gguf
family: wan
tasks: [image_to_video]
backends: [sdcpp]
"""


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (OPENAI, "backend 'openai' (model 'tiny-wan-t2v') does not support task 'text_to_video'"),
        (
            [*OPENAI_VIDEO, "backend.profile=openai", "output_format=gif"],
            "`output_format`: the openai profile cannot ask the server for a video format",
        ),
        ([*OPENAI_VIDEO, "frame_pngs=true"], "`frame_pngs`: the openai backend returns the server's video file alone"),
        (
            [*OPENAI[:2], "task=multi_view_image"],
            "backend 'openai' (model 'tiny-sd') does not support task 'multi_view_image'",
        ),
        (["model=tiny-wan-t2v", "task=multi_view_image"], "model 'tiny-wan-t2v' does not support task"),
        (["model=tiny-animatediff", "task=image_to_video"], "model 'tiny-animatediff' does not support task"),
        (
            ["backend=sdcpp", "model=wan-gguf", "task=image_to_video", "image=ref.png"],
            "backend 'sdcpp' (model 'wan-gguf') does not support task 'image_to_video'; it supports "
            "['text_to_image', 'image_to_image']. stable-diffusion.cpp has a Wan video mode, but this backend does "
            "not wire it",
        ),
    ],
)
def test_a_task_the_backend_or_model_cannot_do_is_refused_at_plan_time(
    overrides: list[str],
    message: str,
    dry_run: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "wan-gguf.yaml").write_text(SDCPP_WAN)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "wan2.1-i2v-14b-480p-Q4_0.gguf").write_bytes(b"GGUF")  # never loaded: refused first
    (tmp_path / "ref.png").write_bytes(Path(__file__).parents[2].joinpath("docs/images/video-frames.png").read_bytes())
    monkeypatch.chdir(tmp_path)
    code = main(["run", *overrides, f"run.dry_run={str(dry_run).lower()}", "run.dir=r", "run.progress=false"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf", "models", "ref.png"]
