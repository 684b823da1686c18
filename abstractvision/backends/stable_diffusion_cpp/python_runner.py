"""Python mode: stable-diffusion-cpp-python in this process, the context kept loaded across jobs.

Two traps of the binding (0.4.x) are handled here:

- When loading fails, ``StableDiffusion(...)`` does not raise: it keeps a NULL context, and the next call
  (or even garbage collection, which frees the NULL context) segfaults. ``load`` checks the context right
  away, detaches it and raises ``ModelLoadError`` naming the files and quoting the library's log.
- sd.cpp keeps one process-wide progress callback; the binding installs a temporary one per call and
  leaves it dangling afterwards. This module installs one permanent callback and one log callback, held
  for the life of the process, and dispatches them to the runner that is working (under a lock).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from pathlib import Path
from typing import Any

from ...errors import BackendUnavailableError, GenerationError, ModelLoadError
from .job import WEIGHT_TYPES, ContextOptions, ImageJob, LogTail

logger = logging.getLogger("abstractvision.sdcpp")

INSTALL_HINT = (
    "install it with: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'abstractvision[sdcpp]' "
    "(pip builds stable-diffusion-cpp-python from source, a few minutes; drop CMAKE_ARGS for a build tuned to "
    "this CPU, or add -DSD_CUDA=ON / -DSD_VULKAN=ON / -DSD_METAL=ON for a GPU)"
)
# sd.cpp level -> logging level. Its warnings and errors are often expected probes ("failed to open
# text_encoder_2" for an SD1 folder); a real failure raises with the log's tail quoted, so nothing is lost.
_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.INFO, 3: logging.INFO}
_LOCK = threading.RLock()  # sd.cpp's callbacks are process-wide: one load/generate at a time
_hooks: dict[str, Any] = {}  # the ctypes callbacks (kept alive forever) and what they report to


def import_binding() -> Any:
    """The ``stable_diffusion_cpp`` module, or ``BackendUnavailableError`` with the install command."""
    try:
        import stable_diffusion_cpp
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the sdcpp backend's Python mode needs stable-diffusion-cpp-python ({exc}); {INSTALL_HINT}; "
            "or use CLI mode (`backend.mode=cli`) with an sd-cli binary",
            backend="sdcpp",
        ) from exc
    _install_hooks(stable_diffusion_cpp)
    return stable_diffusion_cpp


class PythonRunner:
    """Loads the model once and generates in this process."""

    mode = "python"

    def __init__(self, options: ContextOptions) -> None:
        self.options = options
        self._sd: Any = None
        self._log = LogTail()
        self._loaded: dict[str, str] = {}

    def load(self) -> float:
        if self._sd is not None:
            return 0.0
        sd_cpp = import_binding()
        opts, files = self.options, self.options.files
        component = {role: str(path) for role, path in files.components.items()}
        start = time.perf_counter()
        with _LOCK:
            _hooks["log"] = self._log
            self._log.clear()
            try:
                sd = sd_cpp.StableDiffusion(
                    model_path=str(files.model or ""),
                    diffusion_model_path=component.get("diffusion_model", ""),
                    vae_path=component.get("vae", ""),
                    clip_l_path=component.get("clip_l", ""),
                    clip_g_path=component.get("clip_g", ""),
                    t5xxl_path=component.get("t5xxl", ""),
                    llm_path=component.get("llm", ""),
                    lora_model_dir=opts.lora_dir or "",
                    n_threads=opts.threads,
                    wtype=opts.weight_type or "default",
                    offload_params_to_cpu=opts.offload_to_cpu,
                    flash_attn=opts.flash_attention,
                    verbose=True,  # no stdout/stderr redirection: our log callback receives the messages
                )
            except ValueError as exc:
                raise self._load_error(str(exc)) from exc
            finally:
                logging.getLogger("stable-diffusion-cpp-python").setLevel(logging.ERROR)
            if not sd._model.model:  # NULL context: freeing it would segfault, so detach it first
                sd._model.model = None
                sd.close()
                raise self._load_error("stable-diffusion.cpp could not create a context")
        self._sd = sd
        self._loaded = dict(self._log.loaded)
        return time.perf_counter() - start

    def generate(self, job: ImageJob, progress: Any = None) -> list[Any]:
        self.load()
        with _LOCK:
            _hooks["log"], _hooks["progress"] = self._log, progress
            self._log.clear()
            try:
                optional = {
                    "width": job.width,
                    "height": job.height,
                    "cfg_scale": job.cfg_scale,
                    "sample_steps": job.steps,
                    "strength": job.strength,
                    "flow_shift": job.flow_shift,
                }
                images = self._sd.generate_image(
                    prompt=job.prompt,
                    negative_prompt=job.negative_prompt,
                    sample_method=job.sampler or "default",
                    scheduler=job.scheduler or "default",
                    seed=job.seed,
                    batch_count=job.batch_count,
                    init_image=job.init_image,
                    mask_image=job.mask,
                    vae_tiling=job.vae_tiling,
                    **{k: v for k, v in optional.items() if v is not None},
                )
            except (ValueError, RuntimeError) as exc:  # a NULL result surfaces as "NULL pointer access"
                raise GenerationError(
                    f"stable-diffusion.cpp failed to generate ({exc}); its log ends with:\n{self._log.text()}",
                    backend="sdcpp",
                    model=self.options.files.name,
                ) from exc
            finally:
                _hooks["progress"] = None
        return [image.convert("RGB") for image in images]

    def loaded_files(self) -> dict[str, str]:
        return dict(self._loaded)

    def defaults(self) -> dict[str, Any]:
        """The binding's own defaults for what a job left unset (read from its signature, not restated here)."""
        import inspect

        signature = inspect.signature(import_binding().StableDiffusion.generate_image).parameters
        names = {"steps": "sample_steps", "guidance_scale": "cfg_scale", "strength": "strength"}
        return {key: signature[arg].default for key, arg in names.items() if arg in signature}

    def versions(self) -> dict[str, str]:
        return {"stable-diffusion-cpp-python": import_binding().__version__}

    def close(self) -> None:
        if self._sd is not None:
            with _LOCK:
                self._sd.close()
            self._sd = None

    def _load_error(self, reason: str) -> ModelLoadError:
        files = self.options.files
        return ModelLoadError(
            f"stable-diffusion.cpp could not load {files.describe()}: {reason}. Check that the file is complete "
            f"(not a partial download) and is a model sd.cpp supports; its log ends with:\n{self._log.text()}",
            backend="sdcpp",
            model=files.name,
        )


def convert_model(source: Path, output: Path, weight_type: str, vae: Path | None = None) -> None:
    """Write ``source`` (file or diffusers folder) as a GGUF file quantised to ``weight_type``."""
    sd_cpp = import_binding()
    log = LogTail()
    with _LOCK:
        _hooks["log"] = log
        converter = sd_cpp.StableDiffusion(verbose=True)  # no model: only the converter is used
        logging.getLogger("stable-diffusion-cpp-python").setLevel(logging.ERROR)
        ok = converter.convert(
            str(source), vae_path=str(vae or ""), output_path=str(output), output_type=WEIGHT_TYPES[weight_type]
        )
    if not ok:
        raise ModelLoadError(
            f"stable-diffusion.cpp could not convert {str(source)!r} to {weight_type}; its log ends with:\n"
            f"{log.text()}",
            backend="sdcpp",
        )


def _install_hooks(sd_cpp: Any) -> None:
    """Install the permanent log and progress callbacks (once per process)."""
    with _LOCK:
        if "log_callback" in _hooks:
            return

        @sd_cpp.sd_log_callback
        def on_log(level: int, text: bytes, data: Any) -> None:
            message = text.decode("utf-8", errors="replace")
            tail = _hooks.get("log")
            if tail is not None:
                tail.add(message)
            logger.log(_LEVELS.get(level, logging.DEBUG), "%s", message.rstrip())

        @sd_cpp.sd_progress_callback
        def on_progress(step: int, steps: int, seconds: float, data: Any) -> None:
            report = _hooks.get("progress")
            if report is not None and step > 0:
                report(step, steps)

        _hooks.update(log_callback=on_log, progress_callback=on_progress, log=None, progress=None)
        sd_cpp.sd_set_log_callback(on_log, ctypes.c_void_p(0))
        sd_cpp.sd_set_progress_callback(on_progress, ctypes.c_void_p(0))
