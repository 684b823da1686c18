"""CLI mode: one ``sd-cli`` process per call (the model is loaded by each call).

Every context option and job parameter maps to a flag (``context_flags``, ``job_flags``). The process runs
with a timeout; its output is read as it comes to report sampling progress (``| 3/20 - 1.2s/it``); on
failure the error quotes the output's last lines.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from ...errors import BackendUnavailableError, GenerationError, InvalidParameterError, ModelLoadError
from .files import ModelFiles
from .job import WEIGHT_TYPES, ContextOptions, ImageJob, LogTail

logger = logging.getLogger("abstractvision.sdcpp")

SD_CLI_NAME = "sd-cli"
SD_CLI_ENV = "ABSTRACTVISION_SD_CLI"
OUTPUT_PATTERN = "image_%d.png"
_BAR_RE = re.compile(r"\|[=> ]*\| (\d+)/(\d+) - [\d.]+(s/it|it/s|[MG]B/s)")
#: component role -> sd-cli flag
COMPONENT_FLAGS = {
    "diffusion_model": "--diffusion-model",
    "vae": "--vae",
    "clip_l": "--clip_l",
    "clip_g": "--clip_g",
    "t5xxl": "--t5xxl",
    "llm": "--llm",
}
_LOAD_FAILED = "new_sd_ctx_t failed"
CONVERT_TIMEOUT_S = 3600
_versions: dict[str, str] = {}


def find_sd_cli(configured: str | None) -> Path | None:
    """The sd-cli to use: ``configured``, else ``$ABSTRACTVISION_SD_CLI``, else PATH, else build-cli's build."""
    for field, text in (("backend.sd_cli_path", configured), (f"${SD_CLI_ENV}", os.environ.get(SD_CLI_ENV))):
        if text:
            path = Path(text).expanduser()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise InvalidParameterError(
                    field, f"{str(path)!r} is not an executable file; build one with `abstractvision sdcpp build-cli`"
                )
            return path
    on_path = shutil.which(SD_CLI_NAME)
    if on_path:
        return Path(on_path)
    from .build import built_sd_cli

    return built_sd_cli()


def require_sd_cli(configured: str | None) -> Path:
    path = find_sd_cli(configured)
    if path is None:
        raise BackendUnavailableError(
            "the sdcpp backend's CLI mode needs the sd-cli binary, which no package ships: build it with "
            "`abstractvision sdcpp build-cli` (a few minutes), then set `backend.sd_cli_path` or "
            f"${SD_CLI_ENV} to the path it prints, or put sd-cli on PATH; or use Python mode (`backend.mode=python`)",
            backend="sdcpp",
        )
    return path


def context_flags(options: ContextOptions) -> list[str]:
    """sd-cli flags for how to load the model."""
    files = options.files
    flags = ["-m", str(files.model)] if files.model else []
    for role, path in files.components.items():
        flags += [COMPONENT_FLAGS[role], str(path)]
    flags += ["-t", str(options.threads)]
    if options.weight_type:
        flags += ["--type", WEIGHT_TYPES[options.weight_type]]
    if options.lora_dir:
        flags += ["--lora-model-dir", options.lora_dir]
    if options.offload_to_cpu:
        flags.append("--offload-to-cpu")
    if options.flash_attention:
        flags.append("--fa")
    return flags


def job_flags(job: ImageJob, init_path: Path | None, mask_path: Path | None) -> list[str]:
    """sd-cli flags for one generation call."""
    flags = ["-p", job.prompt, "-n", job.negative_prompt, "-s", str(job.seed), "-b", str(job.batch_count)]
    for flag, value in (("-W", job.width), ("-H", job.height), ("--steps", job.steps)):
        if value is not None:
            flags += [flag, str(value)]
    if job.cfg_scale is not None:
        flags += ["--cfg-scale", repr(float(job.cfg_scale))]
    if job.sampler:
        flags += ["--sampling-method", job.sampler]
    if job.scheduler:
        flags += ["--scheduler", job.scheduler]
    if init_path is not None:
        flags += ["-i", str(init_path)]
        if job.strength is not None:
            flags += ["--strength", repr(float(job.strength))]
    if mask_path is not None:
        flags += ["--mask", str(mask_path)]
    if job.vae_tiling:
        flags.append("--vae-tiling")
    if job.flow_shift is not None:
        flags += ["--flow-shift", repr(float(job.flow_shift))]
    return flags


class CliRunner:
    """Runs ``sd-cli`` for each call; nothing stays loaded between calls."""

    mode = "cli"

    def __init__(self, options: ContextOptions, sd_cli: Path, timeout_s: float) -> None:
        self.options = options
        self.sd_cli = sd_cli
        self.timeout_s = timeout_s
        self._loaded: dict[str, str] = {}

    def load(self) -> float:
        return 0.0  # each call loads the model itself

    def generate(self, job: ImageJob, progress: Any = None) -> list[Any]:
        from PIL import Image

        with tempfile.TemporaryDirectory(prefix="abstractvision-sdcpp-") as temp:
            folder = Path(temp)
            init_path = _save(job.init_image, folder / "init.png")
            mask_path = _save(job.mask, folder / "mask.png")
            command = [str(self.sd_cli), "-M", "img_gen", *context_flags(self.options)]
            command += [*job_flags(job, init_path, mask_path), "-o", str(folder / OUTPUT_PATTERN)]
            command += ["--output-begin-idx", "0", "--disable-image-metadata"]
            self._loaded = run_sd_cli(command, timeout_s=self.timeout_s, progress=progress, files=self.options.files)
            images = []
            for index in range(job.batch_count):
                path = folder / (OUTPUT_PATTERN % index)
                if not path.is_file():
                    raise GenerationError(
                        f"sd-cli exited without writing {path.name} (image {index + 1} of {job.batch_count})",
                        backend="sdcpp",
                        model=self.options.files.name,
                    )
                with Image.open(path) as image:
                    images.append(image.convert("RGB"))
        return images

    def loaded_files(self) -> dict[str, str]:
        return dict(self._loaded)

    def defaults(self) -> dict[str, Any]:
        return {}  # sd-cli does not report them; unset values stay unset in the metadata (sd-cli's defaults)

    def versions(self) -> dict[str, str]:
        key = str(self.sd_cli)
        if key not in _versions:
            from .build import build_info

            result = subprocess.run([key, "--version"], capture_output=True, text=True, timeout=30, check=False)
            built_from = build_info(self.sd_cli).get("version")
            suffix = f" (built from stable-diffusion-cpp-python {built_from})" if built_from else ""
            _versions[key] = (result.stdout.strip() or "unknown") + suffix
        return {"sd-cli": _versions[key]}

    def close(self) -> None:
        """Nothing stays loaded between calls."""


def run_sd_cli(
    command: list[str], *, timeout_s: float, progress: Any = None, files: ModelFiles | None = None
) -> dict[str, str]:
    """Run sd-cli, reporting sampling progress; raise with the output's tail on failure or timeout.

    Returns the files sd-cli said it loaded (role -> path).
    """
    model = files.name if files else None
    tail = LogTail()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    reader = threading.Thread(target=_read_output, args=(process.stdout, tail, progress), daemon=True)
    reader.start()
    start = time.monotonic()
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise GenerationError(
            f"sd-cli did not finish within {timeout_s:g} s (backend.timeout_s) and was stopped; raise "
            f"backend.timeout_s for large models or sizes. Its output ends with:\n{tail.text()}",
            backend="sdcpp",
            model=model,
        ) from None
    finally:
        reader.join(timeout=5)
    if code == 0:
        return tail.loaded
    what = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    if files is not None and _LOAD_FAILED in tail.text():
        raise ModelLoadError(
            f"sd-cli could not load {files.describe()} ({what}). Check that the file is complete "
            f"(not a partial download) and is a model sd.cpp supports; its output ends with:\n{tail.text()}",
            backend="sdcpp",
            model=model,
        )
    raise GenerationError(
        f"sd-cli failed after {time.monotonic() - start:.1f} s ({what}); its output ends with:\n{tail.text()}",
        backend="sdcpp",
        model=model,
    )


def convert_with_cli(sd_cli: Path, source: Path, output: Path, weight_type: str, vae: Path | None = None) -> None:
    """``sd-cli -M convert``: write ``source`` (file or diffusers folder) as GGUF quantised to ``weight_type``."""
    command = [str(sd_cli), "-M", "convert", "-m", str(source), "-o", str(output), "--type", WEIGHT_TYPES[weight_type]]
    run_sd_cli(command + (["--vae", str(vae)] if vae else []), timeout_s=CONVERT_TIMEOUT_S)


def _read_output(stream: IO[bytes], tail: LogTail, progress: Any) -> None:
    """Collect output lines (``\\r`` ends a progress-bar update) and report sampling steps."""
    buffer = b""
    while chunk := stream.read1(4096):  # type: ignore[attr-defined]
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            _handle_line(raw.decode("utf-8", errors="replace"), tail, progress)
    _handle_line(buffer.decode("utf-8", errors="replace"), tail, progress)


def _handle_line(line: str, tail: LogTail, progress: Any) -> None:
    match = _BAR_RE.search(line)
    if match is None:
        tail.add(line)
        if line.strip():
            logger.debug("sd-cli: %s", line.rstrip())
    elif progress is not None and not match.group(3).endswith("B/s"):  # B/s bars report loading, not steps
        progress(int(match.group(1)), int(match.group(2)))


def _save(image: Any, path: Path) -> Path | None:
    if image is None:
        return None
    image.save(path, format="PNG")
    return path
