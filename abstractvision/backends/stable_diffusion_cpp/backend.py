"""Local GGUF / safetensors diffusion models with stable-diffusion.cpp: text to image, image to image, inpainting.

Two runtimes, one behaviour: **CLI mode** runs the ``sd-cli`` executable once per call (the model loads each
time); **Python mode** uses stable-diffusion-cpp-python and keeps the model loaded across jobs. ``mode="auto"``
takes sd-cli when one is found (``sd_cli_path``, PATH, or ``abstractvision sdcpp build-cli``'s build), else the
Python package. Nothing heavy is imported until the first job.

A call for ``n`` images uses sd.cpp's own batch: image ``i`` has seed ``seed + i`` exactly (the same image a
single call with that seed gives), and each asset records its seed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...builtin import is_builtin
from ...errors import InvalidParameterError
from ...fingerprints import fingerprint
from ...media.images import decode_image, resized
from ...media.png import encode_png
from ...registry import ModelSpec, resolve_model
from ...tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, TASKS, TEXT_TO_IMAGE, TEXT_TO_VIDEO
from ...types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ProgressCallback,
    VisionBackendCapabilities,
)
from ...validation import MAX_SEED
from ..base_backend import VisionBackend, image_params
from ..options import configured_identity, identity, model_field, placement
from .files import COMPONENTS, ModelFiles, file_identities, resolve_model_files
from .job import SAMPLERS, SCHEDULERS, WEIGHT_TYPES, ContextOptions, ImageJob, Runner

MODES = ("auto", "cli", "python")
REQUEST_EXTRAS = ("sampler", "scheduler")
_SEED_BOUND = 2**32  # drawn seeds stay in the range every SD tool accepts


@dataclass
class StableDiffusionCppBackendConfig:
    """Options of the stable-diffusion.cpp backend (``backend.<field>`` in configs).

    Args:
        model (`str`, *optional*): registry name ("sd15-gguf", "flux1-schnell-gguf"), a model file (.gguf,
            .safetensors, .ckpt) or a diffusers folder. A registry name brings its ``components`` too.
        model_dir (`str`, *optional*): folder that relative model paths are read from; defaults to
            ``$ABSTRACTVISION_MODEL_DIR``, else the current folder.
        diffusion_model, vae, clip_l, clip_g, t5xxl, llm (`str`, *optional*): component files (FLUX: diffusion
            model + VAE + CLIP-L + T5-XXL; Qwen Image: diffusion model + VAE + LLM). They override the registry's.
        lora_dir (`str`, *optional*): folder of LoRA files, used from the prompt as ``<lora:NAME:WEIGHT>``.
        threads (`int`, defaults to 0): CPU threads; 0 = half the CPUs (the binding's default), in both modes.
        sampler (`str`, *optional*): one of ``SAMPLERS`` (default: sd.cpp's choice for the model).
        scheduler (`str`, *optional*): sigma scheduler, one of ``SCHEDULERS`` (default: sd.cpp's choice).
            Requests may override both with ``extra={"sampler": ..., "scheduler": ...}``.
        flow_shift (`float`, *optional*): timestep shift of flow models (SD3, Qwen Image); default: sd.cpp's.
        weight_type (`str`, *optional*): convert weights on load to f32, f16, bf16, q8_0, q5_0, q5_1, q4_0,
            q4_1, q2_k ... q6_k (default: keep the file's types).
        offload_to_cpu (`bool`, defaults to False): keep weights in RAM, move them to VRAM when needed.
        flash_attention (`bool`, defaults to False): flash attention (less memory).
        vae_tiling (`bool`, defaults to False): decode in tiles (large images in less memory).
        mode (`str`, defaults to "auto"): "auto", "cli" or "python".
        sd_cli_path (`str`, *optional*): the sd-cli executable (default: PATH, then the build-cli cache).
        timeout_s (`float`, defaults to 600): CLI mode: stop an sd-cli call that runs longer.
    """

    model: str | None = model_field()
    model_dir: str | None = placement()
    diffusion_model: str | None = identity()
    vae: str | None = identity()
    clip_l: str | None = identity()
    clip_g: str | None = identity()
    t5xxl: str | None = identity()
    llm: str | None = identity()
    lora_dir: str | None = identity()
    threads: int = placement(0)
    sampler: str | None = identity()
    scheduler: str | None = identity()
    flow_shift: float | None = identity()
    weight_type: str | None = identity()
    offload_to_cpu: bool = placement(False)
    flash_attention: bool = placement(False)
    vae_tiling: bool = placement(False)
    mode: str = placement("auto")
    sd_cli_path: str | None = placement()
    timeout_s: float = placement(600.0)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidParameterError("backend.mode", f"must be one of {list(MODES)}, got {self.mode!r}")
        if not self.model and not self.diffusion_model:
            raise InvalidParameterError(
                "backend.model",
                "is required: a registry name (e.g. sd15-gguf), a .gguf/.safetensors/.ckpt file or a diffusers "
                "folder; or set `backend.diffusion_model` with its components",
            )
        if type(self.threads) is not int or self.threads < 0:
            raise InvalidParameterError("backend.threads", f"must be an integer >= 0 (0 = auto), got {self.threads!r}")
        check_choice("backend.sampler", self.sampler, SAMPLERS)
        check_choice("backend.scheduler", self.scheduler, SCHEDULERS)
        if self.flow_shift is not None and (
            isinstance(self.flow_shift, bool) or not isinstance(self.flow_shift, (int, float))
        ):
            raise InvalidParameterError("backend.flow_shift", f"must be a number or null, got {self.flow_shift!r}")
        if self.weight_type is not None:
            self.weight_type = str(self.weight_type).lower()
            check_choice("backend.weight_type", self.weight_type, tuple(WEIGHT_TYPES))
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, (int, float)) or self.timeout_s <= 0:
            raise InvalidParameterError("backend.timeout_s", f"must be a number of seconds > 0, got {self.timeout_s!r}")

    def job_identity(self, model: ModelSpec) -> dict[str, Any]:
        """What of this config decides the output: the identity options, and every file that will load (by
        content: the model's own files, component overrides, the LoRA folder), so a changed file makes new jobs."""
        options = configured_identity(self)
        for role in COMPONENTS:
            options.pop(role, None)  # named by content below, not by path
        options["files"] = file_identities(model, self.components(), self.model_dir)
        if self.lora_dir:
            options["lora_dir"] = fingerprint("backend.lora_dir", self.lora_dir)
        return options

    def components(self) -> dict[str, str | None]:
        return {role: getattr(self, role) for role in COMPONENTS}

    def resolved_threads(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 2) // 2)


class StableDiffusionCppVisionBackend(VisionBackend):
    """Runs stable-diffusion.cpp through sd-cli or stable-diffusion-cpp-python.

    Example::

        config = StableDiffusionCppBackendConfig(model="~/models/sd15-q8_0.gguf", mode="python")
        asset = VisionManager(StableDiffusionCppVisionBackend(config)).generate_image("a red fox", seed=0)
    """

    name = "sdcpp"
    unsupported_advice = dict.fromkeys(
        (TEXT_TO_VIDEO, IMAGE_TO_VIDEO),
        "stable-diffusion.cpp has a Wan video mode, but this backend does not wire it (it could not be tested "
        "here: see docs/backend-sdcpp.md); use backend=diffusers with a Wan model, e.g. model=wan21-i2v-14b-480p.",
    )

    def __init__(self, config: StableDiffusionCppBackendConfig, model: ModelSpec | None = None) -> None:
        self.config = config
        self.model_spec = model or _spec_of(config)
        self._runner: Runner | None = None
        self._files: ModelFiles | None = None

    @property
    def model_name(self) -> str | None:
        return self.model_spec.name

    @property
    def mode(self) -> str:
        """The runtime in use ("cli" or "python"), choosing it if needed."""
        return self._load_runner().mode

    def get_capabilities(self) -> VisionBackendCapabilities:
        return VisionBackendCapabilities(supported_tasks=(TEXT_TO_IMAGE, IMAGE_TO_IMAGE))

    def preload(self) -> None:
        self._load_runner().load()

    def preflight(self, *, network: bool = True) -> list[str]:
        """The model files are in place and the runtime (``sd-cli`` or the binding) is there; nothing loads.
        A built-in model is built on load."""
        if not is_builtin(self.model_spec.source):
            self._load_runner()
        return []

    def unload(self) -> None:
        if self._runner is not None:
            self._runner.close()
        self._runner = None

    def generate_image(
        self, request: ImageGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        return self.generate_images(request, n=1, progress=progress)[0]

    def generate_images(
        self, request: ImageGenerationRequest, *, n: int = 1, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """``n`` images in one sd.cpp batch: seeds ``seed``, ``seed + 1``, ... (each recorded)."""
        params = image_params(request, request.width, request.height)
        return self._run(TEXT_TO_IMAGE, request.extra, request.seed, n, params, {}, progress)

    def can_batch(self, task: str, seeds: Sequence[int | None]) -> bool:
        """Consecutive seeds only: sd.cpp's batch of n from seed s makes exactly the images of seeds s, s+1, ..."""
        first = seeds[0]
        return task == TEXT_TO_IMAGE and first is not None and list(seeds) == list(range(first, first + len(seeds)))

    def generate_batch(
        self, requests: Sequence[ImageGenerationRequest], *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """Requests alike but for their consecutive seeds (``can_batch``) as one sd.cpp batch."""
        return self.generate_images(requests[0], n=len(requests), progress=progress)

    def edit_image(self, request: ImageEditRequest, *, progress: ProgressCallback | None = None) -> GeneratedAsset:
        return self.edit_images(request, n=1, progress=progress)[0]

    def edit_images(
        self, request: ImageEditRequest, *, n: int = 1, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """Image to image (``strength``), or inpainting when the request has a mask (white = repaint)."""
        image = decode_image("image", request.image, "RGB")
        width, height = request.width or image.width, request.height or image.height
        params = image_params(request, width, height)
        params["strength"] = request.strength
        params["image_sha256"] = hashlib.sha256(request.image).hexdigest()
        inputs: dict[str, Any] = {"init_image": resized(image, width, height), "strength": params["strength"]}
        if request.mask is not None:
            params["mask_sha256"] = hashlib.sha256(request.mask).hexdigest()
            inputs["mask"] = resized(decode_image("mask", request.mask, "L"), width, height)
        return self._run(IMAGE_TO_IMAGE, request.extra, request.seed, n, params, inputs, progress)

    # -- internals ---------------------------------------------------------------------------------------

    def _run(
        self,
        task: str,
        extra: dict[str, Any],
        seed: int | None,
        n: int,
        params: dict[str, Any],
        inputs: dict[str, Any],
        progress: ProgressCallback | None,
    ) -> list[GeneratedAsset]:
        sampler, scheduler = self._check_extra(extra)
        if type(n) is not int or n < 1:
            raise InvalidParameterError("n", f"must be an integer >= 1, got {n!r}")
        seed = secrets.randbelow(_SEED_BOUND) if seed is None else seed
        if seed + n - 1 > MAX_SEED:
            raise InvalidParameterError("seed", f"seed + n - 1 must stay <= 2**63-1, got seed {seed} with n {n}")
        runner = self._load_runner()
        load_s = runner.load()
        job = ImageJob(
            prompt=params["prompt"],
            negative_prompt=params["negative_prompt"] or "",
            width=params["width"],
            height=params["height"],
            steps=params["steps"],
            cfg_scale=None if params["guidance_scale"] is None else float(params["guidance_scale"]),
            seed=seed,
            batch_count=n,
            sampler=sampler,
            scheduler=scheduler,
            vae_tiling=self.config.vae_tiling,
            flow_shift=self.config.flow_shift,
            **inputs,
        )
        start = time.perf_counter()
        images = runner.generate(job, progress)
        generate_s = (time.perf_counter() - start) / n
        params["width"], params["height"] = images[0].size
        params.update({k: v for k, v in runner.defaults().items() if params.get(k, 0) is None})
        base = self._metadata(task, runner, params, sampler, scheduler)
        assets = []
        for index, image in enumerate(images):
            metadata = {**base, "seed": seed + index}
            if n > 1:
                metadata["batch"] = {"index": index, "size": n, "first_seed": seed}
            metadata["timings"] = {
                "load_s": round(load_s if index == 0 else 0.0, 4),
                "generate_s": round(generate_s, 4),
            }
            assets.append(
                GeneratedAsset(
                    media_type="image", data=encode_png(image, metadata), mime_type="image/png", metadata=metadata
                )
            )
        return assets

    def _load_runner(self) -> Runner:
        if self._runner is not None:
            return self._runner
        cfg = self.config
        self._files = resolve_model_files(self.model_spec, cfg.components(), cfg.model_dir)
        options = ContextOptions(
            files=self._files,
            threads=cfg.resolved_threads(),
            weight_type=cfg.weight_type,
            lora_dir=cfg.lora_dir,
            offload_to_cpu=cfg.offload_to_cpu,
            flash_attention=cfg.flash_attention,
        )
        from .cli_runner import CliRunner, find_sd_cli, require_sd_cli

        sd_cli = None
        if cfg.mode == "cli":
            sd_cli = require_sd_cli(cfg.sd_cli_path)
        elif cfg.mode == "auto":
            sd_cli = find_sd_cli(cfg.sd_cli_path)
        if sd_cli is not None:
            self._runner = CliRunner(options, sd_cli, cfg.timeout_s)
        else:
            from .python_runner import PythonRunner, import_binding

            import_binding()  # fail now, with the install command, if the package is missing
            self._runner = PythonRunner(options)
        return self._runner

    def check_extra(self, extra: Mapping[str, Any]) -> None:
        self._check_extra(extra)

    def _check_extra(self, extra: Mapping[str, Any]) -> tuple[str | None, str | None]:
        unknown = sorted(set(extra) - set(REQUEST_EXTRAS))
        if unknown:
            raise InvalidParameterError(
                f"extra.{unknown[0]}", f"not understood by the sdcpp backend; valid keys are {list(REQUEST_EXTRAS)}"
            )
        check_choice("extra.sampler", extra.get("sampler"), SAMPLERS)
        scheduler = extra.get("scheduler")
        if scheduler in SAMPLERS and scheduler not in SCHEDULERS:
            raise InvalidParameterError(
                "extra.scheduler",
                f"{scheduler!r} is a sampler, not a sigma scheduler: stable-diffusion.cpp sets them apart; "
                f"pass `extra.sampler` instead (sigma schedulers are {list(SCHEDULERS)})",
            )
        check_choice("extra.scheduler", scheduler, SCHEDULERS)
        return extra.get("sampler") or self.config.sampler, extra.get("scheduler") or self.config.scheduler

    def _metadata(
        self, task: str, runner: Runner, params: dict[str, Any], sampler: str | None, scheduler: str | None
    ) -> dict[str, Any]:
        from ... import __version__

        files = self._files
        assert files is not None
        return {
            "backend": self.name,
            "model": files.name,
            "model_source": files.source,
            "model_files": files.as_dict(),
            "engine_loaded": runner.loaded_files(),
            "task": task,
            "params": params,
            "scheduler": "/".join(filter(None, (sampler or "default", scheduler))),
            "sampler": sampler or "default",
            "sigma_scheduler": scheduler or "default",
            "device": "auto",  # sd.cpp runs where it was compiled for: CPU unless built with CUDA/Vulkan/Metal
            "dtype": self.config.weight_type or "file",
            "threads": self.config.resolved_threads(),
            "lora_dir": self.config.lora_dir,
            "sdcpp_mode": runner.mode,
            "versions": {"abstractvision": __version__, **runner.versions()},
        }


def _spec_of(config: StableDiffusionCppBackendConfig) -> ModelSpec:
    """The model a config names when no spec is handed over: ``model``, or the ``diffusion_model`` file alone."""
    if config.model:
        return resolve_model(config.model)
    return ModelSpec(name=Path(str(config.diffusion_model)).name, source="", tasks=TASKS)


def check_choice(field: str, value: Any, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise InvalidParameterError(field, f"must be one of {list(choices)}, got {value!r}")
