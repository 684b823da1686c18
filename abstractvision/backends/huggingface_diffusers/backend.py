"""Local inference with Hugging Face diffusers: text to image, image to image, inpainting, video.

For an image model one text-to-image pipeline is loaded per backend; the image-to-image and inpainting
pipelines are derived from it with ``from_pipe`` (same weights, no extra memory) and cached. A video
model (its ``family`` in ``video_families``) loads the family's pipeline class for the task (``video.py``).
torch and diffusers are imported on first use, so constructing the backend (and validating its config)
stays light.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...builtin import builder_version, is_builtin
from ...errors import InvalidParameterError
from ...media.images import decode_image, resized
from ...media.png import encode_png
from ...registry import ModelSpec, resolve_model
from ...tasks import IMAGE_TO_IMAGE, IMAGE_TO_VIDEO, MULTI_VIEW_IMAGE, TEXT_TO_IMAGE, TEXT_TO_VIDEO
from ...types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    ProgressCallback,
    VideoGenerationRequest,
    VisionBackendCapabilities,
)
from ...video_families import video_family
from ..base_backend import VisionBackend, image_params
from ..options import configured_identity, identity, model_field, placement
from . import loading, multiview, video
from .schedulers import SCHEDULERS, build_scheduler, check_scheduler_name, scheduler_class

REQUEST_EXTRAS = ("scheduler", "lora_weights")
_DEVICE_PREFIXES = ("cpu", "cuda", "mps", "xpu")
_SEED_BOUND = 2**32  # drawn seeds stay in the range every SD tool accepts
_IMAGE_TASKS = (TEXT_TO_IMAGE, IMAGE_TO_IMAGE, MULTI_VIEW_IMAGE)


@dataclass
class HuggingFaceDiffusersBackendConfig:
    """Options of the diffusers backend (``backend.<field>`` in configs).

    Args:
        model_id: registry name ("tiny-sd", "sd-turbo"), Hugging Face id or local diffusers folder.
        device: "auto" (cuda > mps > cpu), "cpu", "cuda", "cuda:1", "mps".
        dtype: "auto" (float16 on cuda, float32 elsewhere), "float32", "float16" or "bfloat16".
        allow_download: False = cache only: load from local folders and the Hugging Face cache, never
            open a network connection.
        revision: hub branch, tag or commit. variant: weight variant such as "fp16".
        cache_dir: Hugging Face cache folder (default: the hub's own default).
        scheduler: short name ("euler_a", "dpm++_karras", see ``schedulers.SCHEDULERS``) or a
            diffusers class name; None keeps the model's own. Overridable per request (``extra``).
        cpu_offload: False, True (= "model": one component on the GPU at a time) or "sequential".
        vae_slicing, vae_tiling: decode in slices / tiles (large images in less memory).
        attention_slicing: False, True (= "auto"), "max" or a slice size.
        safety_checker: load the model's safety checker (off by default; explicit).
        loras: LoRA adapters, each ``{path, weight, name}``; weights overridable per request.
        threads: torch CPU threads, set when the pipeline loads (process-wide); 0 keeps torch's default.
            Placement, yet it can change CPU bytes, so every asset records the count it ran with.
    """

    model_id: str = model_field("tiny-sd")
    device: str = placement("auto")
    dtype: str = identity("auto")
    allow_download: bool = placement(False)
    revision: str | None = identity()
    variant: str | None = identity()
    cache_dir: str | None = placement()
    scheduler: str | None = identity()
    cpu_offload: bool | str = placement(False)
    vae_slicing: bool = placement(False)
    vae_tiling: bool = placement(False)
    attention_slicing: bool | str | int = placement(False)
    safety_checker: bool = identity(False)
    loras: list[dict[str, Any]] = identity(default_factory=list)
    threads: int = placement(0)

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id:
            raise InvalidParameterError("backend.model_id", f"must be a non-empty string, got {self.model_id!r}")
        if not isinstance(self.device, str) or not (
            self.device == "auto" or self.device.split(":")[0] in _DEVICE_PREFIXES
        ):
            raise InvalidParameterError(
                "backend.device",
                f"must be 'auto' or one of {list(_DEVICE_PREFIXES)} (e.g. 'cuda:1'), got {self.device!r}",
            )
        if self.dtype not in loading.DTYPES:
            raise InvalidParameterError("backend.dtype", f"must be one of {list(loading.DTYPES)}, got {self.dtype!r}")
        if self.cpu_offload not in (True, False, "model", "sequential"):
            raise InvalidParameterError(
                "backend.cpu_offload", f"must be false, true, 'model' or 'sequential', got {self.cpu_offload!r}"
            )
        if self.cpu_offload and not self.device.startswith(("auto", "cuda", "xpu")):
            raise InvalidParameterError(
                "backend.cpu_offload", f"moves weights between CPU and an accelerator; device {self.device!r} has none"
            )
        if not (self.attention_slicing in (True, False, "auto", "max") or type(self.attention_slicing) is int):
            raise InvalidParameterError(
                "backend.attention_slicing",
                f"must be false, true, 'auto', 'max' or a slice size, got {self.attention_slicing!r}",
            )
        if type(self.threads) is not int or self.threads < 0:
            raise InvalidParameterError(
                "backend.threads", f"must be an integer >= 0 (0 = torch's default), got {self.threads!r}"
            )
        check_scheduler_name(self.scheduler, "backend.scheduler")
        loading.parse_loras(self.loras)

    def job_identity(self, model: ModelSpec) -> dict[str, Any]:
        """What of this config decides the output: the identity options, LoRAs named by content, and the
        model's own view prompt and edit pipeline (they decide each view's prompt and the pipeline that runs)."""
        options = configured_identity(self)
        if model.view_prompt:
            options["view_prompt"] = model.view_prompt
        if model.edit_pipeline:
            options["edit_pipeline"] = model.edit_pipeline
        if self.loras:
            options["loras"] = [
                {"name": lora.name, "weight": lora.weight, "file": loading.lora_fingerprint(lora, index, self)}
                for index, lora in enumerate(loading.parse_loras(self.loras))
            ]
        return options


class HuggingFaceDiffusersVisionBackend(VisionBackend):
    """Runs diffusers pipelines in this process.

    Example::

        backend = HuggingFaceDiffusersVisionBackend(HuggingFaceDiffusersBackendConfig(model_id="tiny-sd"))
        asset = VisionManager(backend).generate_image("a red fox", seed=0)
    """

    name = "diffusers"

    def __init__(self, config: HuggingFaceDiffusersBackendConfig | None = None, model: ModelSpec | None = None) -> None:
        self.config = config or HuggingFaceDiffusersBackendConfig()
        self.model_spec = model or resolve_model(self.config.model_id)
        self._loras = loading.parse_loras(self.config.loras)
        self._model: loading.ResolvedModel | None = None
        self._pipelines: dict[str, Any] = {}
        self._base_scheduler: tuple[str, dict[str, Any]] | None = None
        self._device = self._dtype = ""
        self._lock = threading.RLock()

    @property
    def model_name(self) -> str | None:
        return self.model_spec.name

    def get_capabilities(self) -> VisionBackendCapabilities:
        family = video_family(self.model_spec.family)
        return VisionBackendCapabilities(supported_tasks=family.tasks if family else _IMAGE_TASKS)

    def preload(self) -> None:
        with self._lock:
            self._pipeline(self.get_capabilities().supported_tasks[0])

    def preflight(self, *, network: bool = True) -> list[str]:
        """The packages are installed and the model's folder or cache entry exists (built-in models are built
        on load); nothing is imported or read."""
        cfg = self.config
        loading.check_installed()
        if cfg.scheduler is not None and cfg.scheduler not in SCHEDULERS:  # a class name: ask diffusers
            scheduler_class(cfg.scheduler, "backend.scheduler")
        if not is_builtin(self.model_spec.source):
            loading.resolve_model(
                self.model_spec, allow_download=cfg.allow_download, revision=cfg.revision, cache_dir=cfg.cache_dir
            )
        return []

    def unload(self) -> None:
        with self._lock:
            was_loaded = bool(self._pipelines)
            self._pipelines.clear()
            self._model = self._base_scheduler = None
        if was_loaded:
            import gc

            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def generate_image(
        self, request: ImageGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset:
        return self.generate_batch([request], progress=progress)[0]

    def can_batch(self, task: str, seeds: Sequence[int | None]) -> bool:
        """Text to image batches any seeds: one CPU generator per image, as a single call would seed it."""
        return task == TEXT_TO_IMAGE

    def generate_batch(
        self, requests: Sequence[ImageGenerationRequest], *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        """One pipeline call for ``requests`` (alike but for their seeds): ``num_images_per_prompt`` images
        and a list of generators, image k seeded with request k's seed."""
        first = requests[0]
        params = image_params(first, first.width, first.height)
        call = {"width": first.width, "height": first.height}
        if len(requests) > 1:
            call["num_images_per_prompt"] = len(requests)
        return self._run(TEXT_TO_IMAGE, TEXT_TO_IMAGE, first, [r.seed for r in requests], params, call, progress)

    def edit_image(self, request: ImageEditRequest, *, progress: ProgressCallback | None = None) -> GeneratedAsset:
        image = decode_image("image", request.image, "RGB")
        width, height = request.width or image.width, request.height or image.height
        params = image_params(request, width, height)
        params["strength"] = request.strength
        params["image_sha256"] = hashlib.sha256(request.image).hexdigest()
        call: dict[str, Any] = {"image": resized(image, width, height), "strength": request.strength}
        pipeline = IMAGE_TO_IMAGE
        if request.mask is not None:
            pipeline = "inpainting"
            params["mask_sha256"] = hashlib.sha256(request.mask).hexdigest()
            mask = resized(decode_image("mask", request.mask, "L"), width, height)
            call.update(mask_image=mask, width=width, height=height)
        return self._run(IMAGE_TO_IMAGE, pipeline, request, [request.seed], params, call, progress)[0]

    def generate_angles(
        self, request: MultiAngleRequest, *, progress: ProgressCallback | None = None
    ) -> list[GeneratedAsset]:
        return multiview.run_views(self, request, progress)

    def generate_video(
        self, request: VideoGenerationRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset | list[GeneratedAsset]:
        return video.run_video(self, TEXT_TO_VIDEO, request, progress)

    def image_to_video(
        self, request: ImageToVideoRequest, *, progress: ProgressCallback | None = None
    ) -> GeneratedAsset | list[GeneratedAsset]:
        return video.run_video(self, IMAGE_TO_VIDEO, request, progress)

    # -- internals ---------------------------------------------------------------------------------------

    def _run(
        self,
        task: str,
        pipeline_kind: str,
        request: ImageGenerationRequest | ImageEditRequest,
        seeds: Sequence[int | None],
        params: dict[str, Any],
        call: dict[str, Any],
        progress: ProgressCallback | None,
    ) -> list[GeneratedAsset]:
        """One image per seed in one call: ``call`` completed with the recorded parameters, each image a PNG."""
        call = {**image_call(params), **call}
        result, records = self.run_pipeline(
            task, pipeline_kind, request.extra, seeds, params, call, progress, lambda r: r.images[0].size
        )
        flagged = getattr(result, "nsfw_content_detected", None)
        assets = []
        for index, (image, metadata) in enumerate(zip(result.images, records, strict=True)):
            if flagged is not None:  # only when the safety checker ran (safety_checker=true)
                metadata["nsfw_content_detected"] = bool(flagged[index])
            assets.append(GeneratedAsset("image", encode_png(image, metadata), "image/png", metadata))
        return assets

    def run_pipeline(
        self,
        task: str,
        pipeline_kind: str,
        extra: dict[str, Any],
        seeds: Sequence[int | None],
        params: dict[str, Any],
        call: dict[str, Any],
        progress: ProgressCallback | None,
        output_size: Any,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Run pipeline ``pipeline_kind`` once with ``call`` (its arguments), one output per seed; ``(result,
        metadata of each output)``: its seed, and the batch it was in when there are several.

        ``output_size(result)`` is the ``(width, height)`` made, recorded in ``params``.
        """
        scheduler_name, adapter_weights = self._check_extra(extra or {})
        seeds = [secrets.randbelow(_SEED_BOUND) if seed is None else seed for seed in seeds]
        with self._lock:  # one request at a time: the scheduler and adapter weights are set per request
            load_start = time.perf_counter()
            was_loaded = pipeline_kind in self._pipelines
            pipe = self._pipeline(pipeline_kind)
            load_s = 0.0 if was_loaded else time.perf_counter() - load_start
            scheduler_name = scheduler_name or self.config.scheduler or self._base_scheduler[0]
            result, generate_s = self._call(pipe, call, seeds, scheduler_name, adapter_weights, progress)
            params["width"], params["height"] = output_size(result)
            _record_engine_defaults(pipe, params)
            records = [self._metadata(task, pipe, params, seed, scheduler_name, adapter_weights) for seed in seeds]
        for index, metadata in enumerate(records):
            metadata["timings"] = {"load_s": round(load_s, 4), "generate_s": round(generate_s / len(seeds), 4)}
            if len(seeds) > 1:  # batched pixels can differ from a single call's by ±1 (docs/configuration.md)
                metadata["batch"] = {"size": len(seeds), "index": index}
        return result, records

    def _call(
        self,
        pipe: Any,
        call: dict[str, Any],
        seeds: list[int],
        scheduler_name: str,
        adapter_weights: dict[str, float],
        progress: ProgressCallback | None,
    ) -> tuple[Any, float]:
        """Run ``pipe`` once with a fresh scheduler and one CPU generator per seed (a list for a batch)."""
        import torch

        assert self._base_scheduler is not None
        with loading.translate_generation_errors(self.model_name or ""):
            pipe.scheduler = build_scheduler(scheduler_name, self._base_scheduler[1], "extra.scheduler")
            if self._loras:
                pipe.set_adapters(list(adapter_weights), adapter_weights=list(adapter_weights.values()))
            generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
            start = time.perf_counter()
            result = pipe(
                generator=generators if len(generators) > 1 else generators[0],
                callback_on_step_end=_progress_hook(progress),
                **{k: v for k, v in call.items() if v is not None},
            )
            return result, time.perf_counter() - start

    def _pipeline(self, kind: str) -> Any:
        """The pipeline for ``kind`` (text_to_image, image_to_image, inpainting, a video task), loaded once."""
        if kind in self._pipelines:
            return self._pipelines[kind]
        family = video_family(self.model_spec.family)
        if family is not None:  # a video model: the family's class for the task loads the folder
            self._pipelines[kind] = self._load(family.pipelines[kind])
            return self._pipelines[kind]
        if kind == IMAGE_TO_IMAGE and self.model_spec.edit_pipeline:  # a dedicated edit model: its own class
            self._pipelines[kind] = self._load(self.model_spec.edit_pipeline)
            return self._pipelines[kind]
        if TEXT_TO_IMAGE not in self._pipelines:
            self._pipelines[TEXT_TO_IMAGE] = self._load()
        base = self._pipelines[TEXT_TO_IMAGE]
        if kind != TEXT_TO_IMAGE:
            from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

            auto = AutoPipelineForInpainting if kind == "inpainting" else AutoPipelineForImage2Image
            with (
                loading.translate_load_errors(self.model_name or "", what=f"the {kind} pipeline"),
                loading.quiet_progress_bars(),
            ):
                derived = auto.from_pipe(base)
                self._pipelines[kind] = self._apply_memory(derived)
        return self._pipelines[kind]

    def _load(self, pipeline_class: str | None = None) -> Any:
        """Load the model as ``pipeline_class`` (a diffusers class name; default: the text-to-image auto class)."""
        cfg = self.config
        torch, _ = loading.import_torch_diffusers()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self._model = loading.resolve_model(
            self.model_spec, allow_download=cfg.allow_download, revision=cfg.revision, cache_dir=cfg.cache_dir
        )
        if cfg.scheduler is not None:
            scheduler_class(cfg.scheduler, "backend.scheduler")
        self._device = loading.resolve_device(cfg.device)
        self._dtype = loading.resolve_dtype_name(cfg.dtype, self._device)
        pipe = loading.load_pipeline(
            self._model,
            pipeline_class,
            dtype=getattr(torch, self._dtype),
            variant=cfg.variant,
            cache_dir=cfg.cache_dir,
            safety_checker=cfg.safety_checker,
        )
        loading.load_loras(
            pipe, self._loras, allow_download=cfg.allow_download, cache_dir=cfg.cache_dir, model=self._model.name
        )
        self._base_scheduler = (type(pipe.scheduler).__name__, dict(pipe.scheduler.config))
        with loading.translate_load_errors(self._model.name, what=f"the model onto {self._device}"):
            self._apply_memory(pipe)
        return pipe

    def _apply_memory(self, pipe: Any) -> Any:
        cfg = self.config
        return loading.apply_memory_options(
            pipe,
            device=self._device,
            cpu_offload=cfg.cpu_offload,
            vae_slicing=cfg.vae_slicing,
            vae_tiling=cfg.vae_tiling,
            attention_slicing=cfg.attention_slicing,
        )

    def check_extra(self, extra: Mapping[str, Any]) -> None:
        self._extra_values(extra)

    def _check_extra(self, extra: Mapping[str, Any]) -> tuple[str | None, dict[str, float]]:
        """Validate ``request.extra`` before any work (scheduler class names too); return the scheduler and
        the adapter weights."""
        scheduler, weights = self._extra_values(extra)
        if scheduler is not None:
            loading.import_torch_diffusers()
            scheduler_class(scheduler, "extra.scheduler")  # an unknown class name fails before loading
        return scheduler, weights

    def _extra_values(self, extra: Mapping[str, Any]) -> tuple[str | None, dict[str, float]]:
        """The scheduler and adapter weights of ``extra``, checked without importing diffusers."""
        unknown = sorted(set(extra) - set(REQUEST_EXTRAS))
        if unknown:
            raise InvalidParameterError(
                f"extra.{unknown[0]}", f"not understood by the diffusers backend; valid keys are {list(REQUEST_EXTRAS)}"
            )
        scheduler = extra.get("scheduler")
        check_scheduler_name(scheduler, "extra.scheduler")
        weights = {lora.name: lora.weight for lora in self._loras}
        overrides = extra.get("lora_weights") or {}
        if not isinstance(overrides, dict) or not set(overrides) <= set(weights):
            raise InvalidParameterError(
                "extra.lora_weights",
                f"must map configured adapter names {sorted(weights)} to weights, got {overrides!r}",
            )
        for name, weight in overrides.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise InvalidParameterError(f"extra.lora_weights.{name}", f"must be a number, got {weight!r}")
            weights[name] = float(weight)
        return scheduler, weights

    def _metadata(
        self,
        task: str,
        pipe: Any,
        params: dict[str, Any],
        seed: int,
        scheduler_name: str,
        adapter_weights: dict[str, float],
    ) -> dict[str, Any]:
        import torch

        model = self._model
        assert model is not None
        metadata: dict[str, Any] = {
            "backend": self.name,
            "model": model.name,
            "model_source": model.source,
            "model_revision": model.revision,
            "model_family": self.model_spec.family,
            "task": task,
            "params": params,
            "seed": seed,
            "scheduler": scheduler_name,
            "scheduler_class": type(pipe.scheduler).__name__,
            "pipeline": type(pipe).__name__,
            "device": self._device,
            "dtype": self._dtype,
            "variant": self.config.variant,
            "safety_checker": self.config.safety_checker,
            "threads": torch.get_num_threads(),  # backend.threads, or torch's default when that is 0
            "versions": loading.library_versions(),
        }
        if is_builtin(model.source):
            metadata["builder_version"] = builder_version(model.source)
        if self._loras:
            metadata["loras"] = [
                {**dataclasses.asdict(lora), "weight": adapter_weights[lora.name]} for lora in self._loras
            ]
        return metadata


_ENGINE_ARGUMENTS = {
    "steps": "num_inference_steps",
    "guidance_scale": "guidance_scale",
    "strength": "strength",
    "num_frames": "num_frames",
}


def image_call(params: dict[str, Any]) -> dict[str, Any]:
    """The arguments every image pipeline call takes from the recorded parameters."""
    return {
        "prompt": params["prompt"],
        "negative_prompt": params["negative_prompt"],
        "num_inference_steps": params["steps"],
        "guidance_scale": params["guidance_scale"],
    }


def _record_engine_defaults(pipe: Any, params: dict[str, Any]) -> None:
    """Fill parameters the request left unset with what the pipeline used: its own call defaults."""
    signature = inspect.signature(type(pipe).__call__).parameters
    for name, argument in _ENGINE_ARGUMENTS.items():
        if name in params and params[name] is None and argument in signature:
            params[name] = signature[argument].default


def _progress_hook(progress: ProgressCallback | None) -> Any:
    if progress is None:
        return None

    def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        progress(step + 1, int(getattr(pipe, "num_timesteps", 0) or step + 1))
        return callback_kwargs

    return on_step_end
