"""Video over HTTP, both protocols, against real server processes: the fault server's video routes in a
process of their own, and ``abstractvision serve`` serving video (here through an ``openai`` backend that
forwards to that process, since no local video backend is needed for the routes themselves)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_server import png_bytes
from server_processes import ServerProcess, serve

from abstractvision import CapabilityNotSupportedError, GenerationError, VisionManager
from abstractvision.backends.factory import create_backend

pytestmark = pytest.mark.slow

FAST_POLL = {"video_poll_interval_s": 0.05, "video_timeout_s": 30}


def client(base_url: str, api_key: str | None = None, **options: object) -> VisionManager:
    options = {"base_url": base_url, "api_key": api_key, **FAST_POLL, **options}
    return VisionManager(create_backend("openai", "tiny-video", options))


@pytest.mark.parametrize(
    ("path", "protocol", "answer"),
    [("/videos/sync", "sync", "bytes"), ("/videos/sync-json", "sync", "b64_json"), ("/videos", "async", "content")],
)
def test_text_to_video_both_protocols(video_peer, path, protocol, answer):
    asset = client(video_peer, text_to_video_path=path).generate_video("a red fox running", seed=3, num_frames=4)
    assert (asset.media_type, asset.mime_type) == ("video", "video/mp4")
    assert asset.data[4:8] == b"ftyp"
    response = asset.metadata["response"]
    assert (response["protocol"], response["format"]) == (protocol, answer)
    assert asset.metadata["sent"] == {"prompt": "a red fox running", "seed": 3, "num_frames": 4, "model": "tiny-video"}
    if protocol == "async":
        assert response["job_id"].startswith("video_") and response["status"] == "completed"


def test_image_to_video_sends_the_image_as_multipart(video_peer):
    asset = client(video_peer, image_to_video_path="/videos").image_to_video(png_bytes(), prompt="make it move")
    assert asset.mime_type == "video/mp4"
    files = asset.metadata["sent"]["files"]
    assert files[0]["field"] == "input_reference" and files[0]["filename"] == "image.png"


def test_video_is_opt_in(video_peer):
    with pytest.raises(CapabilityNotSupportedError, match="text_to_video_path"):
        client(video_peer).generate_video("a red fox")


@pytest.fixture(scope="module")
def video_server(video_peer, tmp_path_factory) -> Iterator[ServerProcess]:
    """``abstractvision serve`` with a video-capable backend (an openai backend forwarding to the peer)."""
    options = [f"base_url={video_peer}", "text_to_video_path=/videos", "image_to_video_path=/videos"]
    options += ["video_poll_interval_s=0.05"]
    extra = ["--backend", "openai", "--model", "tiny-video", *[a for o in options for a in ("--option", o)]]
    yield from serve(tmp_path_factory.mktemp("video-serve"), *extra, api_key="sk-video-test")


@pytest.mark.parametrize(("path", "protocol"), [("/videos/generations", "sync"), ("/videos", "async")])
def test_served_video_routes_both_protocols(video_server, path, protocol):
    manager = client(video_server.base_url, video_server.api_key, text_to_video_path=path)
    asset = manager.generate_video("a red fox running", seed=8)
    assert asset.mime_type == "video/mp4" and asset.data[4:8] == b"ftyp"
    assert asset.metadata["response"]["protocol"] == protocol
    assert asset.metadata["seed"] == 8


def test_served_image_to_video_and_failed_job(video_server):
    manager = client(video_server.base_url, video_server.api_key, image_to_video_path="/videos")
    assert manager.image_to_video(png_bytes(), prompt="make it move", seed=1).mime_type == "video/mp4"
    failing = client(video_server.base_url, video_server.api_key, text_to_video_path="/videos")
    with pytest.raises(GenerationError, match="the model fell over"):
        failing.generate_video("fail please")
