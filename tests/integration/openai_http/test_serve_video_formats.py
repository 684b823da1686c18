"""``abstractvision serve`` of tiny Wan T2V: every output format, frame PNGs, clear 400s, read back with imageio;
and the ``openai`` backend driving it end to end from ``abstractvision run``."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from server_processes import ServerProcess, serve

import abstractvision

pytest.importorskip("diffusers")
imageio = pytest.importorskip("imageio")
pytest.importorskip("imageio_ffmpeg")

REQUEST = {"prompt": "a red fox", "size": "64x64", "num_frames": 5, "fps": 6, "steps": 2, "seed": 3}


@pytest.fixture(scope="module")
def wan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve(tmp_path_factory.mktemp("wan-serve"), "--model", "tiny-wan-t2v")


def decoded(data: bytes, output_format: str) -> Any:
    """Every frame of an encoded video, read back with imageio (ffmpeg for MP4/WebM, Pillow for GIF/WebP)."""
    if output_format in ("mp4", "webm"):
        return imageio.v3.imread(io.BytesIO(data), index=None, plugin="FFMPEG", extension=f".{output_format}")
    return imageio.v3.imread(io.BytesIO(data), index=..., plugin="pillow", mode="RGB")


def frames_of(data: bytes, output_format: str) -> tuple[int, tuple[int, int]]:
    """Frame count and (width, height) of an encoded video."""
    frames = decoded(data, output_format)
    return len(frames), (frames.shape[2], frames.shape[1])


def post(server: ServerProcess, path: str, **body: object) -> requests.Response:
    """``REQUEST`` with ``body`` to a video route; ``body`` alone (with the prompt) to an image route."""
    base = REQUEST if path.startswith("/videos") else {"prompt": REQUEST["prompt"]}
    return requests.post(f"{server.base_url}{path}", json={**base, **body}, timeout=120)


@pytest.mark.slow
def test_every_output_format_and_the_frames_come_back(wan_server: ServerProcess) -> None:
    for output_format in ("mp4", "webm", "gif"):
        answer = post(wan_server, "/videos/generations", output_format=output_format)
        assert answer.status_code == 200, answer.text
        (item,) = answer.json()["data"]
        assert frames_of(base64.b64decode(item["b64_json"]), output_format) == (5, (64, 64)), output_format
        assert item["seed"] == 3

    job = post(wan_server, "/videos", output_format="webp", frame_pngs=True).json()
    deadline = time.monotonic() + 120
    while job["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = requests.get(f"{wan_server.base_url}/videos/{job['id']}", timeout=10).json()
    assert job["status"] == "completed", job
    assert job["frames"] == [f"frame{i:04d}" for i in range(5)]
    video = requests.get(f"{wan_server.base_url}/videos/{job['id']}/content", timeout=10)
    assert video.headers["content-type"] == "image/webp"
    frames = decoded(video.content, "webp")
    assert frames.shape == (5, 64, 64, 3)
    frame = requests.get(f"{wan_server.base_url}/videos/{job['id']}/content?variant=frame0002", timeout=10)
    assert frame.headers["content-type"] == "image/png"
    assert (imageio.v3.imread(io.BytesIO(frame.content), mode="RGB") == frames[2]).all()  # WebP is lossless
    missing = requests.get(f"{wan_server.base_url}/videos/{job['id']}/content?variant=frame0009", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "variant"


@pytest.mark.parametrize(
    ("path", "body", "param", "message"),
    [
        ("/videos", {"output_format": "avi"}, "output_format", "this route writes mp4 or webm or gif or webp"),
        ("/videos/generations", {"output_format": "png"}, "output_format", "got 'png'"),
        ("/videos", {"frame_pngs": "yes"}, "frame_pngs", "must be true or false, got 'yes'"),
        ("/videos", {"num_frames": 8}, "num_frames", "takes 4k+1 frames, got 8; use 5 or 9"),
        ("/images/generations", {"output_format": "mp4"}, "output_format", "this route writes png, got 'mp4'"),
    ],
)
def test_bad_video_values_get_a_400_naming_the_field(
    wan_server: ServerProcess, path: str, body: dict, param: str, message: str
) -> None:
    answer = post(wan_server, path, **body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param and message in error["message"]


@pytest.mark.slow
def test_the_openai_backend_drives_the_served_model_from_a_run(wan_server: ServerProcess, tmp_path: Path) -> None:
    overrides = [
        "backend=openai",
        f"backend.base_url={wan_server.base_url}",
        "backend.text_to_video_path=/videos",
        "backend.video_poll_interval_s=0.2",
        "model=tiny-wan-t2v",
        "task=text_to_video",
        "prompt=a red fox",
        "num_frames=5",
        "output_format=webm",
        "seed=4",
    ]
    (item,) = abstractvision.run(overrides, run_dir=tmp_path / "out", progress=False)
    assert item.path.suffix == ".webm" and item.params["output_format"] == "webm"
    assert frames_of(item.path.read_bytes(), "webm") == (5, (64, 64))
