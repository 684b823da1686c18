"""The sdcpp backend's pure parts: config checks, model file resolution, sd-cli flags, progress parsing.

No model loads here; the real runs are in tests/integration/sdcpp/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from abstractvision.backends.factory import create_backend
from abstractvision.backends.stable_diffusion_cpp.backend import (
    StableDiffusionCppBackendConfig,
    StableDiffusionCppVisionBackend,
)
from abstractvision.backends.stable_diffusion_cpp.cli_runner import (
    COMPONENT_FLAGS,
    _handle_line,
    context_flags,
    find_sd_cli,
    job_flags,
)
from abstractvision.backends.stable_diffusion_cpp.files import COMPONENTS, resolve_model_files
from abstractvision.backends.stable_diffusion_cpp.job import ContextOptions, ImageJob, LogTail
from abstractvision.errors import InvalidParameterError, ModelNotFoundError
from abstractvision.registry import resolve_model
from abstractvision.types import ImageGenerationRequest


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"mode": "gpu"}, "backend.mode", "['auto', 'cli', 'python']"),
        ({"sampler": "euler-a"}, "backend.sampler", "'euler_a'"),
        ({"scheduler": "euler_a"}, "backend.scheduler", "'karras'"),
        ({"weight_type": "q3"}, "backend.weight_type", "'q8_0'"),
        ({"threads": -1}, "backend.threads", "0 = auto"),
        ({"timeout_s": 0}, "backend.timeout_s", "> 0"),
        ({"flow_shift": "3"}, "backend.flow_shift", "a number"),
        ({"model": None}, "backend.model", "registry name"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(options: dict, field: str, fragment: str) -> None:
    values = {"model": "m.gguf", **options}
    with pytest.raises(InvalidParameterError) as info:
        StableDiffusionCppBackendConfig(**values)
    assert info.value.field == field
    assert fragment in str(info.value)


def test_weight_type_is_case_insensitive() -> None:
    assert StableDiffusionCppBackendConfig(model="m.gguf", weight_type="Q4_K").weight_type == "q4_k"


def test_factory_builds_the_backend_and_rejects_unknown_options() -> None:
    backend = create_backend("sdcpp", "sd15-gguf", {"mode": "python"})
    assert isinstance(backend, StableDiffusionCppVisionBackend)
    assert backend.model_name == "sd15-gguf"
    with pytest.raises(InvalidParameterError, match=r"backend.sampling_method.*valid options are"):
        create_backend("sdcpp", "sd15-gguf", {"sampling_method": "euler"})


def test_registry_model_with_text_encoders_loads_its_source_as_the_diffusion_model(tmp_path: Path) -> None:
    for name in ("flux1-schnell-q4_0.gguf", "ae.safetensors", "clip_l.safetensors", "t5xxl_fp16.safetensors"):
        (tmp_path / name).write_bytes(b"x")
    files = resolve_model_files(resolve_model("flux1-schnell-gguf"), {}, str(tmp_path))
    assert files.model is None
    assert files.components == {
        "diffusion_model": tmp_path / "flux1-schnell-q4_0.gguf",
        "vae": tmp_path / "ae.safetensors",
        "clip_l": tmp_path / "clip_l.safetensors",
        "t5xxl": tmp_path / "t5xxl_fp16.safetensors",
    }
    assert files.source == str(tmp_path / "flux1-schnell-q4_0.gguf")


def test_explicit_component_overrides_the_registry_and_full_models_stay_full(tmp_path: Path) -> None:
    for name in ("sd_xl_base_1.0-Q8_0.gguf", "my_vae.safetensors"):
        (tmp_path / name).write_bytes(b"x")
    vae = {"vae": str(tmp_path / "my_vae.safetensors")}
    files = resolve_model_files(resolve_model("sdxl-gguf"), vae, str(tmp_path))
    assert files.model == tmp_path / "sd_xl_base_1.0-Q8_0.gguf"
    assert files.components == {"vae": tmp_path / "my_vae.safetensors"}


def test_missing_component_names_the_option_and_the_download(tmp_path: Path) -> None:
    (tmp_path / "qwen-image-Q8_0.gguf").write_bytes(b"x")
    (tmp_path / "qwen_image_vae.safetensors").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model_files(resolve_model("qwen-image-gguf"), {}, str(tmp_path))
    message = str(info.value)
    assert "`model.components.llm`" in message
    assert "Qwen2.5-VL-7B-Instruct-Q8_0.gguf" in message
    assert "backend.model_dir" in message


def test_missing_explicit_file_names_backend_field(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"`backend.model`: .*nope.gguf' does not exist"):
        resolve_model_files(resolve_model(str(tmp_path / "nope.gguf")), {}, None)


def test_unknown_builtin_model_is_refused() -> None:
    with pytest.raises(ModelNotFoundError, match="the one built-in model it runs is 'builtin:sd1-layout'"):
        resolve_model_files(resolve_model("builtin:other"), {}, None)


def test_context_flags_map_every_option(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    components = {role: tmp_path / f"{role}.bin" for role in COMPONENTS}
    for path in [model, *components.values()]:
        path.write_bytes(b"x")
    files = resolve_model_files(resolve_model(str(model)), {role: str(p) for role, p in components.items()}, None)
    options = ContextOptions(
        files=files, threads=3, weight_type="q4_k", lora_dir="/loras", offload_to_cpu=True, flash_attention=True
    )
    flags = context_flags(options)
    assert flags[:2] == ["-m", str(model)]
    for role, flag in COMPONENT_FLAGS.items():
        assert flags[flags.index(flag) + 1] == str(components[role])
    assert flags[flags.index("-t") + 1] == "3"
    assert flags[flags.index("--type") + 1] == "q4_K"  # the ggml spelling sd-cli expects
    assert flags[flags.index("--lora-model-dir") + 1] == "/loras"
    assert "--offload-to-cpu" in flags and "--fa" in flags


def test_job_flags_map_every_parameter(tmp_path: Path) -> None:
    job = ImageJob(
        prompt="a fox",
        negative_prompt="blurry",
        width=64,
        height=96,
        steps=3,
        cfg_scale=5.5,
        seed=7,
        batch_count=2,
        sampler="euler",
        scheduler="karras",
        strength=0.4,
        vae_tiling=True,
        flow_shift=3.0,
    )
    flags = job_flags(job, tmp_path / "init.png", tmp_path / "mask.png")
    pairs = dict(zip(flags, [*flags[1:], None], strict=True))
    expected = {"-p": "a fox", "-n": "blurry", "-W": "64", "-H": "96", "--steps": "3", "--cfg-scale": "5.5"}
    expected |= {"-s": "7", "-b": "2", "--sampling-method": "euler", "--scheduler": "karras", "--strength": "0.4"}
    expected |= {"-i": str(tmp_path / "init.png"), "--mask": str(tmp_path / "mask.png"), "--flow-shift": "3.0"}
    assert {key: pairs[key] for key in expected} == expected
    assert "--vae-tiling" in flags
    plain = job_flags(ImageJob("a", "", 64, 64, 2, 7.0, 1), None, None)
    assert not {"-i", "--mask", "--strength", "--sampling-method", "--scheduler", "--vae-tiling"} & set(plain)


def test_progress_bars_report_steps_and_stay_out_of_the_error_tail() -> None:
    tail, steps = LogTail(), []
    # Lines in the exact format of sd.cpp's print_progress_line (util.cpp).
    _handle_line("  |=========================>                        | 1/2 - 1.23s/it\x1b[K", tail, None)
    _handle_line(
        "  |==================================================| 2/2 - 2.50it/s", tail, lambda *a: steps.append(a)
    )
    _handle_line("  |==================================================| 9/9 - 120.00MB/s", tail, steps.append)
    _handle_line("[ERROR] model.cpp:300 - load failed", tail, None)
    assert steps == [(2, 2)]
    assert tail.text() == "[ERROR] model.cpp:300 - load failed"


def test_sd_cli_path_must_be_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABSTRACTVISION_SD_CLI", raising=False)
    not_executable = tmp_path / "sd-cli"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(InvalidParameterError) as info:
        find_sd_cli(str(not_executable))
    assert info.value.field == "backend.sd_cli_path"
    assert "abstractvision sdcpp build-cli" in str(info.value)


def test_unknown_or_misplaced_request_extras_fail_before_loading() -> None:
    backend = StableDiffusionCppVisionBackend(StableDiffusionCppBackendConfig(model="/nonexistent.gguf"))
    request = ImageGenerationRequest(prompt="a fox", extra={"scheduler": "euler_a"})
    with pytest.raises(InvalidParameterError) as info:
        backend.generate_image(request)
    assert info.value.field == "extra.scheduler"
    assert "pass `extra.sampler`" in str(info.value)
    with pytest.raises(InvalidParameterError, match=r"`extra.lora`.*valid keys are \['sampler', 'scheduler'\]"):
        backend.generate_image(ImageGenerationRequest(prompt="a fox", extra={"lora": "x"}))


def test_missing_binding_names_the_extra_and_the_build_flags(tmp_path: Path) -> None:
    """In a subprocess where ``import stable_diffusion_cpp`` fails (as when the extra is not installed)."""
    model = tmp_path / "model.gguf"
    model.write_bytes(b"x")
    script = (
        "import sys; sys.modules['stable_diffusion_cpp'] = None\n"
        "from abstractvision.backends.stable_diffusion_cpp import *\n"
        f"b = StableDiffusionCppVisionBackend(StableDiffusionCppBackendConfig(model={str(model)!r}, mode='python'))\n"
        "try:\n    b.preload()\nexcept ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("BackendUnavailableError")
    assert "pip install 'abstractvision[sdcpp]'" in result.stdout
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in result.stdout


def test_import_abstractvision_does_not_import_the_binding() -> None:
    script = (
        "import sys, abstractvision\n"
        "from abstractvision.backends import StableDiffusionCppVisionBackend\n"
        "print('stable_diffusion_cpp' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "abstractvision.cli", "sdcpp", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)


def test_convert_refuses_bad_arguments_before_loading_anything(tmp_path: Path) -> None:
    missing = run_cli("convert", str(tmp_path / "nope.safetensors"), str(tmp_path / "out.gguf"))
    assert missing.returncode == 2
    assert "`input`" in missing.stderr and "does not exist" in missing.stderr
    (tmp_path / "model.safetensors").write_bytes(b"x")
    wrong_suffix = run_cli("convert", str(tmp_path / "model.safetensors"), str(tmp_path / "out.bin"))
    assert wrong_suffix.returncode == 2
    assert "`output`: must end in .gguf" in wrong_suffix.stderr
    bad_type = run_cli("convert", str(tmp_path / "model.safetensors"), str(tmp_path / "out.gguf"), "--type", "q3_k")
    assert bad_type.returncode == 2
    assert "invalid choice: 'q3_k'" in bad_type.stderr


def test_build_cli_without_cmake_says_what_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path), "ABSTRACTVISION_CACHE": str(tmp_path / "cache")}
    result = run_cli("build-cli", env=env)
    assert result.returncode == 2
    assert "building sd-cli needs 'cmake' on PATH" in result.stderr
    assert "C++17 compiler" in result.stderr
