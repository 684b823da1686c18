"""The diffusers backend on a CUDA device (opt-in: skipped where there is none, as in CI)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")

from PIL import Image  # noqa: E402

from abstractvision import (  # noqa: E402
    HuggingFaceDiffusersBackendConfig,
    HuggingFaceDiffusersVisionBackend,
    ResourceExhaustedError,
    VisionManager,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

PROMPT = "a red fox in the forest"


def make_manager(**options: Any) -> VisionManager:
    return VisionManager(HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(**options)))


def as_ints(data: bytes) -> list[int]:
    with Image.open(io.BytesIO(data)) as image:
        return list(image.convert("RGB").tobytes())


def mean_abs_diff(a: bytes, b: bytes) -> float:
    x, y = as_ints(a), as_ints(b)
    return sum(abs(p - q) for p, q in zip(x, y, strict=True)) / len(x)


@pytest.fixture(scope="module")
def cuda_fp16(tiny_sd_path: Path) -> Iterator[VisionManager]:
    manager = make_manager()
    yield manager
    manager.backend.unload()


def test_auto_device_and_dtype_are_cuda_float16(cuda_fp16: VisionManager) -> None:
    asset = cuda_fp16.generate_image(PROMPT, seed=0)
    assert asset.metadata["device"] == "cuda" and asset.metadata["dtype"] == "float16"
    assert cuda_fp16.generate_image(PROMPT, seed=0).data == asset.data
    assert as_ints(cuda_fp16.generate_image(PROMPT, seed=1).data) != as_ints(asset.data)


def test_cpu_generator_makes_a_seed_mean_the_same_image_on_cuda_and_cpu(tiny_sd_path: Path) -> None:
    on_cuda = make_manager(device="cuda", dtype="float32").generate_image(PROMPT, seed=0)
    on_cpu = make_manager(device="cpu", dtype="float32").generate_image(PROMPT, seed=0)
    other_seed = make_manager(device="cpu", dtype="float32").generate_image(PROMPT, seed=1)
    assert mean_abs_diff(on_cuda.data, on_cpu.data) < 1.0  # same noise; only float rounding differs
    assert mean_abs_diff(other_seed.data, on_cpu.data) > 10 * mean_abs_diff(on_cuda.data, on_cpu.data)


@pytest.mark.parametrize("offload", [True, "sequential"])
def test_cpu_offload_gives_the_same_image(cuda_fp16: VisionManager, offload: bool | str) -> None:
    reference = cuda_fp16.generate_image(PROMPT, seed=0)
    manager = make_manager(cpu_offload=offload)
    offloaded = manager.generate_image(PROMPT, seed=0)
    assert offloaded.metadata["device"] == "cuda"
    assert mean_abs_diff(offloaded.data, reference.data) < 1.0
    edited = manager.edit_image("a blue bird", offloaded.data, seed=0)
    assert edited.metadata["pipeline"] == "StableDiffusionImg2ImgPipeline"


def test_bfloat16_and_memory_savers(tiny_sd_path: Path) -> None:
    manager = make_manager(dtype="bfloat16", vae_slicing=True, vae_tiling=True, attention_slicing="max")
    asset = manager.generate_image(PROMPT, seed=0)
    assert asset.metadata["dtype"] == "bfloat16" and len(as_ints(asset.data)) == 64 * 64 * 3


def test_real_out_of_memory_becomes_resource_exhausted(tiny_sd_path: Path) -> None:
    manager = make_manager()
    manager.backend.preload()
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(torch.cuda.memory_allocated() / torch.cuda.mem_get_info()[1] + 1e-4)
    try:
        with pytest.raises(ResourceExhaustedError, match=r"out of device memory.*cpu_offload") as excinfo:
            manager.generate_image(PROMPT, seed=0, width=2048, height=2048)
        assert isinstance(excinfo.value.__cause__, torch.OutOfMemoryError)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        manager.backend.unload()
