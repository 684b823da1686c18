"""The diffusers backend end to end on the project's tiny models (real torch, real diffusers, CPU)."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")

from PIL import Image

from abstractvision import (
    CapabilityNotSupportedError,
    HuggingFaceDiffusersBackendConfig,
    HuggingFaceDiffusersVisionBackend,
    ImageGenerationRequest,
    InvalidParameterError,
    ModelNotFoundError,
    ResourceExhaustedError,
    VisionManager,
)
from abstractvision.backends.factory import create_backend
from abstractvision.backends.huggingface_diffusers import loading as diffusers_loading
from abstractvision.media.png import read_png_record, read_png_text

PROMPT = "a red fox in the forest"


def make_manager(model_id: str = "tiny-sd", **options: Any) -> VisionManager:
    config = HuggingFaceDiffusersBackendConfig(model_id=model_id, **options)
    return VisionManager(HuggingFaceDiffusersVisionBackend(config))


def pixels(data: bytes) -> list[int]:
    with Image.open(io.BytesIO(data)) as image:
        return list(image.convert("RGB").tobytes())


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def manager(tiny_sd_path: Path) -> Iterator[VisionManager]:
    manager = make_manager()
    yield manager
    manager.backend.unload()


@pytest.fixture(scope="module")
def fox(manager: VisionManager) -> Any:
    return manager.generate_image(PROMPT, seed=0)


class NetworkTripwire:
    """Records (and refuses) every attempt to open a network connection."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[tuple[Any, ...]] = []
        monkeypatch.setattr(socket.socket, "connect", self._refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", self._refuse)
        monkeypatch.setattr(socket, "create_connection", self._refuse)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(args)
        raise OSError("network access attempted in cache-only mode")


def test_text_to_image_returns_png_with_full_metadata(fox: Any) -> None:
    assert fox.media_type == "image" and fox.mime_type == "image/png"
    with Image.open(io.BytesIO(fox.data)) as image:
        assert image.format == "PNG" and image.size == (64, 64)
    meta = fox.metadata
    assert meta["backend"] == "diffusers" and meta["model"] == "tiny-sd" and meta["model_source"] == "builtin:tiny-sd"
    assert meta["task"] == "text_to_image"
    assert meta["params"] == {
        "prompt": PROMPT,
        "negative_prompt": None,
        "width": 64,
        "height": 64,
        "steps": 4,
        "guidance_scale": 7.5,
    }
    assert meta["seed"] == 0
    assert meta["scheduler"] == meta["scheduler_class"] == "DDIMScheduler"
    expected = ("cuda", "float16") if diffusers_loading.resolve_device("auto") == "cuda" else ("cpu", "float32")
    assert (meta["device"], meta["dtype"]) == expected
    assert {"abstractvision", "torch", "diffusers", "transformers"} <= set(meta["versions"])
    assert set(meta["timings"]) == {"load_s", "generate_s"} and meta["timings"]["generate_s"] > 0
    record = read_png_record(fox.data)
    assert record == {k: v for k, v in meta.items() if k != "timings"}
    assert "Steps: 4, Sampler: DDIM, CFG scale: 7.5, Seed: 0, Size: 64x64" in read_png_text(fox.data)["parameters"]


def test_same_seed_gives_identical_bytes(manager: VisionManager, fox: Any) -> None:
    assert manager.generate_image(PROMPT, seed=0).data == fox.data


def test_different_seed_gives_different_image(manager: VisionManager, fox: Any) -> None:
    other = manager.generate_image(PROMPT, seed=1)
    assert pixels(other.data) != pixels(fox.data)


def test_other_tiny_model_gives_other_image(fox: Any) -> None:
    alt = make_manager("tiny-sd-alt").generate_image(PROMPT, seed=0)
    assert alt.metadata["model"] == "tiny-sd-alt"
    assert pixels(alt.data) != pixels(fox.data)


def test_png_record_reproduces_the_image_in_a_fresh_backend(fox: Any) -> None:
    record = read_png_record(fox.data)
    fresh = make_manager(record["model"])
    again = fresh.generate_image(**record["params"], seed=record["seed"], extra={"scheduler": record["scheduler"]})
    assert again.data == fox.data


def test_missing_seed_is_drawn_and_recorded(manager: VisionManager) -> None:
    first = manager.generate_image(PROMPT)
    seed = first.metadata["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert manager.generate_image(PROMPT, seed=seed).data == first.data


def test_progress_is_reported_once_per_step(manager: VisionManager) -> None:
    calls: list[tuple[int, int]] = []
    manager.generate_image(PROMPT, seed=0, steps=3, progress=lambda step, total: calls.append((step, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_scheduler_is_swapped_per_request_without_state_leaking(manager: VisionManager, fox: Any) -> None:
    euler_a = manager.generate_image(PROMPT, seed=0, extra={"scheduler": "euler_a"})
    assert euler_a.metadata["scheduler"] == "euler_a"
    assert euler_a.metadata["scheduler_class"] == "EulerAncestralDiscreteScheduler"
    assert pixels(euler_a.data) != pixels(fox.data)
    by_class = manager.generate_image(PROMPT, seed=0, extra={"scheduler": "EulerAncestralDiscreteScheduler"})
    assert pixels(by_class.data) == pixels(euler_a.data)
    assert manager.generate_image(PROMPT, seed=0).data == fox.data  # back to the model's own scheduler


def test_concurrent_requests_from_threads_match_sequential_ones(manager: VisionManager, fox: Any) -> None:
    euler_a = manager.generate_image(PROMPT, seed=0, extra={"scheduler": "euler_a"})
    requests = [{"extra": {"scheduler": "euler_a"}}, {}] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda extra: manager.generate_image(PROMPT, seed=0, **extra).data, requests))
    assert results == [euler_a.data, fox.data] * 2


def test_configured_scheduler_is_used(tiny_sd_path: Path) -> None:
    asset = make_manager(scheduler="dpm++_karras").generate_image(PROMPT, seed=0)
    assert asset.metadata["scheduler"] == "dpm++_karras"
    assert asset.metadata["scheduler_class"] == "DPMSolverMultistepScheduler"


def test_unknown_scheduler_fails_before_loading_and_lists_names(tiny_sd_path: Path) -> None:
    manager = make_manager()
    with pytest.raises(InvalidParameterError, match=r"`extra.scheduler`: unknown scheduler 'warp'.*'euler_a'"):
        manager.generate_image(PROMPT, seed=0, extra={"scheduler": "warp"})
    with pytest.raises(InvalidParameterError, match=r"`extra.scheduler`: unknown scheduler 'NoSuchScheduler'"):
        manager.generate_image(PROMPT, seed=0, extra={"scheduler": "NoSuchScheduler"})
    with pytest.raises(InvalidParameterError, match=r"`backend.scheduler`: unknown scheduler 'WarpScheduler'"):
        make_manager(scheduler="WarpScheduler").backend.preload()
    with pytest.raises(InvalidParameterError, match=r"`backend.scheduler`: unknown scheduler 'fast'"):
        HuggingFaceDiffusersBackendConfig(scheduler="fast")
    assert not manager.backend._pipelines


def test_unknown_request_extra_is_refused(manager: VisionManager) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"`extra.clip_skip`: .*valid keys are \['scheduler', 'lora_weights'\]"
    ):
        manager.generate_image(PROMPT, extra={"clip_skip": 2})


def test_image_to_image(manager: VisionManager, fox: Any) -> None:
    edited = manager.edit_image("a blue bird", fox.data, seed=0)
    meta = edited.metadata
    assert meta["task"] == "image_to_image" and meta["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert meta["params"]["strength"] == 0.75 and meta["params"]["width"] == 64
    assert len(meta["params"]["image_sha256"]) == 64
    assert manager.edit_image("a blue bird", fox.data, seed=0).data == edited.data
    assert pixels(manager.edit_image("a blue bird", fox.data, seed=0, strength=0.5).data) != pixels(edited.data)


def test_image_to_image_resizes_input_to_requested_size(manager: VisionManager) -> None:
    source = png(Image.new("RGB", (96, 80), (200, 30, 30)))
    edited = manager.edit_image("a red fox", source, seed=0, width=48, height=40)
    with Image.open(io.BytesIO(edited.data)) as image:
        assert image.size == (48, 40)
    assert (edited.metadata["params"]["width"], edited.metadata["params"]["height"]) == (48, 40)


def test_inpainting_with_mask(manager: VisionManager, fox: Any) -> None:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    inpainted = manager.edit_image("a cat", fox.data, mask=png(mask), seed=0, strength=1.0)
    meta = inpainted.metadata
    assert meta["pipeline"] == "StableDiffusionInpaintPipeline" and len(meta["params"]["mask_sha256"]) == 64
    assert pixels(inpainted.data) != pixels(manager.edit_image("a cat", fox.data, seed=0, strength=1.0).data)
    assert manager.edit_image("a cat", fox.data, mask=png(mask), seed=0, strength=1.0).data == inpainted.data


def test_pipelines_share_components(manager: VisionManager, fox: Any) -> None:
    manager.edit_image("a cat", fox.data, seed=0)
    pipelines = manager.backend._pipelines
    assert pipelines["text_to_image"].unet is pipelines["image_to_image"].unet


@pytest.mark.parametrize(
    ("call", "task"),
    [
        (lambda m: m.generate_video("a fox running"), "text_to_video"),
        (lambda m: m.image_to_video(b"not used"), "image_to_video"),
    ],
)
def test_unsupported_tasks_raise_capability_errors(call: Any, task: str) -> None:
    manager = make_manager()
    with pytest.raises(CapabilityNotSupportedError, match=rf"backend 'diffusers' .* does not support task '{task}'"):
        call(manager)
    assert not manager.backend._pipelines  # refused before loading anything


def test_model_defaults_are_filled_once_by_the_manager_and_the_engine_records_its_own(tiny_sd_path: Path) -> None:
    """One owner for defaults: VisionManager fills the model's; a direct backend call leaves unset values to
    the pipeline, which records what it used (its own call defaults), with no fallback table of ours."""
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"))
    managed = VisionManager(backend).generate_image(PROMPT, seed=0).metadata["params"]
    assert (managed["width"], managed["height"], managed["steps"], managed["guidance_scale"]) == (64, 64, 4, 7.5)
    direct = backend.generate_image(ImageGenerationRequest(prompt=PROMPT, seed=0, steps=2)).metadata["params"]
    assert (direct["width"], direct["height"], direct["steps"], direct["guidance_scale"]) == (64, 64, 2, 7.5)


def test_local_folder_uses_pipeline_defaults_and_records_them(tiny_sd_path: Path) -> None:
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id=str(tiny_sd_path)))
    assert backend.model_name == str(tiny_sd_path)
    asset = backend.generate_image(ImageGenerationRequest(prompt=PROMPT, seed=0, steps=2))
    params = asset.metadata["params"]
    assert (params["width"], params["height"], params["steps"]) == (64, 64, 2)  # unet sample size x vae factor
    assert asset.metadata["model_source"] == str(tiny_sd_path)


def test_factory_builds_the_backend_from_plain_options(tiny_sd_path: Path) -> None:
    backend = create_backend("diffusers", "tiny-sd", {"device": "cpu", "dtype": "float32", "scheduler": "euler"})
    asset = VisionManager(backend).generate_image(PROMPT, seed=0)
    assert asset.metadata["scheduler_class"] == "EulerDiscreteScheduler" and asset.metadata["device"] == "cpu"


def test_cache_only_mode_opens_no_network_connection(
    tiny_sd_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tripwire = NetworkTripwire(monkeypatch)
    asset = make_manager("tiny-sd", allow_download=False).generate_image(PROMPT, seed=0)
    assert asset.metadata["model"] == "tiny-sd"
    backend = HuggingFaceDiffusersVisionBackend(
        HuggingFaceDiffusersBackendConfig(model_id="stabilityai/sd-turbo", cache_dir=str(tmp_path / "hf"))
    )
    with pytest.raises(ModelNotFoundError) as excinfo:
        backend.preload()
    message = str(excinfo.value)
    assert "'stabilityai/sd-turbo' is not in the local Hugging Face cache" in message
    assert "allow_download" in message and "hf download stabilityai/sd-turbo" in message
    assert tripwire.attempts == []


def test_cached_hub_model_loads_without_network(
    tiny_sd_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fox: Any
) -> None:
    # A download cannot happen here: lay the tiny model out as the Hugging Face cache stores a download.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "models--example--tiny-sd"
    shutil.copytree(tiny_sd_path, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    tripwire = NetworkTripwire(monkeypatch)
    manager = make_manager("example/tiny-sd", cache_dir=str(tmp_path / "hf"))
    asset = manager.generate_image(PROMPT, seed=0, width=64, height=64, steps=4, guidance_scale=7.5)
    assert asset.metadata["model"] == "example/tiny-sd" and asset.metadata["model_revision"] == commit
    assert pixels(asset.data) == pixels(fox.data)
    assert tripwire.attempts == []


def test_missing_local_folder_is_model_not_found(tmp_path: Path) -> None:
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id=str(tmp_path / "nope")))
    with pytest.raises(ModelNotFoundError, match=r"model folder '.*nope' does not exist.*registry name"):
        backend.preload()


def test_broken_model_folder_is_a_model_load_error(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id=str(tmp_path)))
    with pytest.raises(Exception) as excinfo:
        backend.preload()
    assert type(excinfo.value).__module__ == "abstractvision.errors"
    assert f"could not load model {str(tmp_path)!r}" in str(excinfo.value)


def test_safety_checker_request_on_a_model_without_one(tiny_sd_path: Path) -> None:
    backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(safety_checker=True))
    with pytest.raises(
        InvalidParameterError, match=r"`backend.safety_checker`: model 'tiny-sd' ships no safety checker"
    ):
        backend.preload()


def test_thread_count_is_set_at_load_and_recorded(fox: Any) -> None:
    """`threads` can change CPU bytes, so every asset says what it ran with; 0 (the default) leaves torch alone."""
    import torch

    default = torch.get_num_threads()
    assert fox.metadata["threads"] == default and read_png_record(fox.data)["threads"] == default
    manager = make_manager(threads=default + 1)
    try:
        asset = manager.generate_image(PROMPT, seed=0)
        assert asset.metadata["threads"] == torch.get_num_threads() == default + 1
    finally:
        torch.set_num_threads(default)


def test_memory_options_run_on_cpu(fox: Any) -> None:
    manager = make_manager(vae_slicing=True, vae_tiling=True, attention_slicing=True)
    asset = manager.generate_image(PROMPT, seed=0)
    assert asset.data != b"" and pixels(asset.data)  # same model, memory savers on: still a valid image


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dtype": "float8"}, r"`backend.dtype`: must be one of \['auto', 'float32', 'float16', 'bfloat16'\]"),
        ({"device": "tpu"}, r"`backend.device`: must be 'auto' or one of"),
        ({"device": "cpu", "cpu_offload": True}, r"`backend.cpu_offload`: .*device 'cpu' has none"),
        ({"cpu_offload": "half"}, r"`backend.cpu_offload`: must be false, true, 'model' or 'sequential'"),
        ({"attention_slicing": "lots"}, r"`backend.attention_slicing`: must be false, true, 'auto', 'max'"),
        ({"loras": [{"weight": 1.0}]}, r"`backend.loras\[0\]`: must be a mapping with a `path`"),
        ({"loras": [{"path": "a.safetensors", "weight": "x"}]}, r"`backend.loras\[0\].weight`: must be a number"),
        ({"loras": [{"path": "a.safetensors", "scale": 1}]}, r"`backend.loras\[0\].scale`: unknown key"),
        ({"loras": [{"path": "x/a.safetensors"}, {"path": "y/a.safetensors"}]}, r"adapter name 'a' is used twice"),
        ({"model_id": ""}, r"`backend.model_id`: must be a non-empty string"),
        ({"threads": -1}, r"`backend.threads`: must be an integer >= 0"),
    ],
)
def test_bad_config_fails_naming_the_field(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        HuggingFaceDiffusersBackendConfig(**options)


def test_out_of_memory_becomes_resource_exhausted() -> None:
    # A real CUDA OOM cannot happen on this CPU machine: raise torch's own OOM type through the translator.
    import torch

    with pytest.raises(ResourceExhaustedError, match=r"out of device memory.*cpu_offload") as excinfo:
        with diffusers_loading.translate_generation_errors("tiny-sd"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert isinstance(excinfo.value.__cause__, torch.OutOfMemoryError)


@pytest.mark.parametrize(
    ("class_name", "loaded"),
    [
        ("StableDiffusionPipeline", "StableDiffusionPipeline"),
        ("StableDiffusionImg2ImgPipeline", "AutoPipelineForText2Image"),  # maps it to its text-to-image sibling
        ("NoSuchPipeline", "AutoPipelineForText2Image"),
    ],
)
def test_the_index_names_the_pipeline_class(class_name: str, loaded: str) -> None:
    assert diffusers_loading.text_to_image_class({"_class_name": class_name}).__name__ == loaded


def test_one_text_to_image_run_imports_neither_auto_pipeline_nor_other_pipelines(tiny_sd_path: Path) -> None:
    """Start-up: AutoPipeline imports every pipeline diffusers has; the class the index names imports one."""
    script = (
        "import sys\n"
        "from abstractvision import HuggingFaceDiffusersBackendConfig as C, HuggingFaceDiffusersVisionBackend as B\n"
        "from abstractvision import ImageGenerationRequest as R\n"
        "asset = B(C(device='cpu')).generate_image(R(prompt='a fox', seed=0, steps=1))\n"
        "print(asset.metadata['pipeline'], *(m for m in sys.modules if m.startswith('diffusers.pipelines.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    pipeline, *modules = result.stdout.split()
    assert pipeline == "StableDiffusionPipeline" and "diffusers.pipelines.stable_diffusion" in modules
    assert not {"diffusers.pipelines.auto_pipeline", "diffusers.pipelines.flux"} & set(modules)


def test_missing_diffusers_names_the_extra(tiny_sd_path: Path) -> None:
    script = (
        "import sys; sys.modules['diffusers'] = None\n"
        "from abstractvision import HuggingFaceDiffusersBackendConfig as C, HuggingFaceDiffusersVisionBackend as B\n"
        "from abstractvision.errors import BackendUnavailableError\n"
        "try:\n    B(C()).preload()\nexcept BackendUnavailableError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "pip install 'abstractvision[diffusers]'" in result.stdout, result.stderr


@pytest.mark.slow
def test_lora_weight_zero_is_the_base_model_and_one_changes_it(tiny_sd_path: Path, tmp_path: Path, fox: Any) -> None:
    pytest.importorskip("peft", reason="LoRA needs peft (part of the diffusers extra)")
    from abstractvision.testing import build_tiny_lora

    lora_file = build_tiny_lora(tmp_path / "lora", seed=0)
    manager = make_manager(loras=[{"path": str(lora_file), "weight": 0.0, "name": "noise"}])
    off = manager.generate_image(PROMPT, seed=0)
    assert pixels(off.data) == pixels(fox.data)
    on = manager.generate_image(PROMPT, seed=0, extra={"lora_weights": {"noise": 1.0}})
    assert pixels(on.data) != pixels(fox.data)
    assert on.metadata["loras"] == [{"name": "noise", "path": str(lora_file), "weight": 1.0}]
    assert pixels(manager.generate_image(PROMPT, seed=0).data) == pixels(off.data)  # per request, not sticky
    by_folder = make_manager(loras=[{"path": str(lora_file.parent)}]).generate_image(PROMPT, seed=0)
    assert by_folder.metadata["loras"][0]["name"] == "lora" and pixels(by_folder.data) == pixels(on.data)
    with pytest.raises(InvalidParameterError, match=r"`extra.lora_weights`: must map configured adapter names"):
        manager.generate_image(PROMPT, extra={"lora_weights": {"other": 1.0}})
