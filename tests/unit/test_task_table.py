"""One task table: every row is reachable through VisionManager, the CLI (planning) and the server.

``AllTasks`` is a stand-in backend that answers every task with a flat PNG: these tests prove the
dispatch reads the table, never that a backend works (the real engines are tested elsewhere).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from abstractvision import VisionManager
from abstractvision.backends.base_backend import VisionBackend
from abstractvision.media.png import encode_png
from abstractvision.pipeline.compose import group_options
from abstractvision.registry import ModelSpec
from abstractvision.tasks import TASK_TABLE, TASKS, get_task
from abstractvision.types import GeneratedAsset, VisionBackendCapabilities

SPEC = ModelSpec(name="everything", source="everything", tasks=TASKS)


def png(seed: int | None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (seed or 0) % 256).save(buffer, format="PNG")
    return buffer.getvalue()


class AllTasks(VisionBackend):
    name = "all-tasks"
    model_spec = SPEC

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_capabilities(self) -> VisionBackendCapabilities:
        return VisionBackendCapabilities(supported_tasks=TASKS)

    def _asset(self, method: str, request: Any) -> GeneratedAsset:
        self.calls.append(method)
        metadata = {"seed": request.seed, "params": {"width": 8, "height": 8}}
        return GeneratedAsset(
            "image", encode_png(Image.open(io.BytesIO(png(request.seed))), metadata), "image/png", metadata
        )

    def generate_image(self, request, *, progress=None):
        return self._asset("generate_image", request)

    def edit_image(self, request, *, progress=None):
        return self._asset("edit_image", request)

    def generate_video(self, request, *, progress=None):
        return self._asset("generate_video", request)

    def image_to_video(self, request, *, progress=None):
        return self._asset("image_to_video", request)

    def generate_angles(self, request, *, progress=None):
        return [self._asset("generate_angles", request) for _ in request.angles]


def manager_call(manager: VisionManager, task: str) -> Any:
    method = getattr(manager, get_task(task).manager_method)
    if task == "image_to_video":
        return method(png(0), seed=1)
    if task == "image_to_image":
        return method("a fox", png(0), seed=1)
    return method("a fox", seed=1)


@pytest.mark.parametrize("task", TASKS)
def test_every_row_is_reachable_through_the_manager(task: str) -> None:
    backend = AllTasks()
    result = manager_call(VisionManager(backend), task)
    assert backend.calls[0] == get_task(task).backend_method
    assert isinstance(result, list) == (get_task(task).output == "images")


def test_every_row_is_a_task_option_of_the_cli() -> None:
    assert group_options("task") == sorted(TASKS)


def test_every_row_plans_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from abstractvision.cli import main

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "everything.yaml").write_text(f"name: everything\nsource: everything\ntasks: {list(TASKS)}\n")
    Image.new("RGB", (64, 64)).save(tmp_path / "in.png")
    server = ["backend=openai", "backend.base_url=http://127.0.0.1:9/v1", "model=everything", "run.dry_run=true"]
    server += ["backend.text_to_video_path=/videos", "backend.image_to_video_path=/videos"]
    needs_image = {"image_to_image", "image_to_video"}
    for task in sorted(set(TASKS) - {"multi_view_image"}):  # the openai backend does no multi-view
        image = [f"image={tmp_path / 'in.png'}"] if task in needs_image else []
        code = main(
            ["run", "--config-dir", str(tmp_path), *server, f"task={task}", *image, f"run.dir={tmp_path / task}"]
        )
        assert code == 0, capsys.readouterr()
        assert "dry run: 1 jobs" in capsys.readouterr().out


def test_every_row_has_a_server_route() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from abstractvision.server.app import create_app

    backend = AllTasks()
    client = TestClient(create_app(backend, model_id="everything"))
    bodies = {
        "text_to_image": ("/v1/images/generations", {"json": {"prompt": "a fox", "seed": 1}}),
        "image_to_image": ("/v1/images/edits", {"data": {"prompt": "a fox"}, "files": {"image": ("i.png", png(0))}}),
        "text_to_video": ("/v1/videos/generations", {"json": {"prompt": "a fox", "seed": 1}}),
        "image_to_video": ("/v1/videos/generations", {"files": {"input_reference": ("i.png", png(0))}}),
        "multi_view_image": ("/v1/images/views", {"json": {"prompt": "a fox", "angles": ["front", "back"]}}),
    }
    assert set(bodies) == set(TASK_TABLE)
    for task, (path, body) in bodies.items():
        assert path.startswith(get_task(task).route.split()[1])
        answer = client.post(path, **body)
        assert answer.status_code == 200, (task, answer.text)
        assert backend.calls[-1] == get_task(task).backend_method
        base64.b64decode(answer.json()["data"][0]["b64_json"])
    assert (
        len(client.post("/v1/images/views", json={"prompt": "x", "angles": ["front", "side", "back"]}).json()["data"])
        == 3
    )
