"""The sdcpp backend in Python mode and in CLI mode, on a real SD1.x-layout model (no mocks).

Every test runs once per mode (the ``mode_options`` fixture); a mode whose runtime is missing is skipped.
Sizes are 64x64 with 2 steps so that a generation takes seconds on two CPU cores.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from abstractvision import GenerationError, ImageEditRequest, ImageGenerationRequest, VisionManager
from abstractvision.backends.stable_diffusion_cpp.backend import (
    StableDiffusionCppBackendConfig,
    StableDiffusionCppVisionBackend,
)
from abstractvision.media.png import read_png_record
from abstractvision.pipeline.batching import batches
from abstractvision.pipeline.worker import GroupDescription, JobSpec, Worker

pytestmark = [pytest.mark.sdcpp, pytest.mark.slow]

FAST = {"width": 64, "height": 64, "steps": 2, "guidance_scale": 1.0}  # cfg 1 skips the unconditional pass


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_text_to_image_same_seed_same_bytes(backend: Any, mode_options: dict[str, Any], sd1_model: Path) -> None:
    steps: list[tuple[int, int]] = []
    manager = VisionManager(backend)
    first = manager.generate_image("a red fox", seed=11, progress=lambda *a: steps.append(a), **FAST)
    second = manager.generate_image("a red fox", seed=11, **FAST)
    assert first.data == second.data
    assert first.mime_type == "image/png"
    with Image.open(io.BytesIO(first.data)) as image:
        assert image.size == (64, 64)
    assert steps[-1] == (2, 2)
    metadata = first.metadata
    assert metadata["backend"] == "sdcpp"
    assert metadata["sdcpp_mode"] == mode_options["mode"]
    assert metadata["seed"] == 11
    assert metadata["model_source"] == str(sd1_model)
    assert metadata["params"] == {"prompt": "a red fox", "negative_prompt": None, **FAST}
    assert set(metadata["timings"]) == {"load_s", "generate_s"}
    assert second.metadata["timings"]["load_s"] == 0.0  # Python mode keeps the model; sd-cli loads inside generate
    record = read_png_record(first.data)
    assert record["seed"] == 11 and "timings" not in record


def test_batch_images_are_the_seeds_s_s_plus_1(backend: Any) -> None:
    request = ImageGenerationRequest(prompt="a red fox", seed=20, **FAST)
    batch = backend.generate_images(request, n=2)
    assert [asset.metadata["seed"] for asset in batch] == [20, 21]
    assert [asset.metadata["batch"] for asset in batch] == [
        {"index": 0, "size": 2, "first_seed": 20},
        {"index": 1, "size": 2, "first_seed": 20},
    ]
    single = VisionManager(backend).generate_image("a red fox", seed=21, **FAST)
    assert pixels(batch[1].data) == pixels(single.data)
    assert pixels(batch[0].data) != pixels(batch[1].data)


def test_image_to_image_and_inpainting(backend: Any) -> None:
    gradient = Image.linear_gradient("L").resize((64, 64)).convert("RGB")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    manager = VisionManager(backend)
    edited = manager.edit_image("a red fox", png(gradient), seed=3, strength=0.5, **FAST)
    again = backend.edit_image(ImageEditRequest(prompt="a red fox", image=png(gradient), seed=3, strength=0.5, **FAST))
    assert edited.data == again.data
    assert edited.metadata["task"] == "image_to_image"
    assert edited.metadata["params"]["strength"] == 0.5
    assert "image_sha256" in edited.metadata["params"]
    inpainted = manager.edit_image("a red fox", png(gradient), mask=png(mask), seed=3, strength=0.5, **FAST)
    assert "mask_sha256" in inpainted.metadata["params"]
    assert pixels(inpainted.data) != pixels(edited.data)
    with Image.open(io.BytesIO(inpainted.data)) as image:
        assert image.size == (64, 64)


def test_gguf_conversion_loads_and_generates(
    make_backend: Any, mode_options: dict[str, Any], sd1_model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "sd1-layout-q8_0.gguf"
    command = [sys.executable, "-m", "abstractvision.cli", "sdcpp", "convert", str(sd1_model), str(target)]
    command += ["--type", "q8_0", "--mode", mode_options["mode"]]
    if mode_options["mode"] == "cli":
        command += ["--sd-cli-path", mode_options["sd_cli_path"]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert target.read_bytes()[:4] == b"GGUF"
    asset = VisionManager(make_backend(target)).generate_image("a red fox", seed=5, **FAST)
    assert asset.metadata["model_source"] == str(target)
    with Image.open(io.BytesIO(asset.data)) as image:
        assert image.size == (64, 64)


LOAD_SCRIPT = """
import sys
from abstractvision import VisionManager
from abstractvision.backends.stable_diffusion_cpp.backend import *
config = StableDiffusionCppBackendConfig(model=sys.argv[1], mode=sys.argv[2], sd_cli_path=sys.argv[3] or None)
backend = StableDiffusionCppVisionBackend(config)
for attempt in range(2):  # a failed load must stay an error, never a crash, on every try
    try:
        VisionManager(backend).generate_image("a red fox", width=64, height=64, steps=1, seed=0)
    except Exception as exc:
        print(type(exc).__name__, exc)
print("process still alive")
"""


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("corrupt.safetensors", bytes(range(256)) * 64, "ModelLoadError"),
        ("truncated.gguf", b"GGUF\x03\x00\x00\x00" + b"\x00" * 16, "ModelLoadError"),
        ("missing.gguf", None, "ModelNotFoundError"),
    ],
    ids=["corrupt-safetensors", "truncated-gguf", "missing-file"],
)
def test_bad_model_file_is_a_clear_error_not_a_crash(
    mode_options: dict[str, Any], tmp_path: Path, name: str, content: bytes | None, error: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    args = [str(path), mode_options["mode"], mode_options.get("sd_cli_path", "")]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"the process died ({result.returncode}):\n{result.stderr[-2000:]}"
    lines = [line for line in result.stdout.splitlines() if line.startswith(error)]
    assert len(lines) == 2, result.stdout
    assert str(path) in lines[0]
    assert "process still alive" in result.stdout
    if error == "ModelLoadError":
        assert "could not load" in result.stdout and "partial download" in result.stdout
    else:
        assert "`backend.model`" in result.stdout


def test_cli_timeout_stops_sd_cli_and_says_which_option(options_for: Callable[[str], dict], sd1_model: Path) -> None:
    config = StableDiffusionCppBackendConfig(model=str(sd1_model), timeout_s=0.5, **options_for("cli"))
    with pytest.raises(GenerationError) as info:
        VisionManager(StableDiffusionCppVisionBackend(config)).generate_image("a red fox", seed=0, **FAST)
    assert "did not finish within 0.5 s (backend.timeout_s)" in str(info.value)


def test_sweep_through_abstractvision_run(mode_options: dict[str, Any], sd1_model: Path, tmp_path: Path) -> None:
    options = [f"backend.{key}={value}" for key, value in mode_options.items()]
    command = [sys.executable, "-m", "abstractvision.cli", "run", "backend=sdcpp", "model=sd1-layout", *options]
    command += ["seed=range(0,2)", "guidance_scale=1.0", f"run.dir={tmp_path / 'run'}", "run.progress=false"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 done now" in first.stdout
    outputs = sorted((tmp_path / "run" / "outputs").glob("*.png"))
    records = [read_png_record(path.read_bytes()) for path in outputs]
    assert sorted(record["seed"] for record in records) == [0, 1]
    assert {record["backend"] for record in records} == {"sdcpp"}
    assert {record["sdcpp_mode"] for record in records} == {mode_options["mode"]}
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 already done" in again.stdout


def test_the_runner_batches_consecutive_seeds_into_one_exact_sdcpp_batch(backend: Any) -> None:
    group = GroupDescription("g", "sdcpp", backend.model_spec, {}, {})
    worker = Worker(group, backend=backend)
    identity = {"task": "text_to_image", "params": {"prompt": "a red fox", **FAST}}
    jobs = [JobSpec(f"j{seed}", "g", "text_to_image", {**identity, "seed": seed}) for seed in (30, 31, 33)]
    assert [[job.job_id for job in batch] for batch in batches(jobs, 4, worker.batchable)] == [["j30", "j31"], ["j33"]]
    first, second = worker.run_batch(jobs[:2])
    assert [first.assets[0].metadata["batch"]["size"], second.assets[0].metadata["seed"]] == [2, 31]
    single = VisionManager(backend).generate_image("a red fox", seed=31, **FAST)
    assert pixels(second.assets[0].data) == pixels(single.data)  # sd.cpp's batch is exact, not within 1 level
