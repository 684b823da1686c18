"""Loading for the diffusers backend: where the weights are, on which device, and error translation.

This is the one place where torch, diffusers and huggingface_hub exceptions become AbstractVision errors.

Cache-only mode never calls into huggingface_hub's download functions: even with ``local_files_only``
they build request headers, and that fetches a registry over the network. Instead a hub id is resolved
to its snapshot folder in the local cache by looking at files, and the pipeline loads from that folder.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.metadata
import importlib.util
import inspect
import os
import platform
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import __version__
from ...builtin import ensure_builtin, is_builtin
from ...errors import (
    AbstractVisionError,
    BackendUnavailableError,
    GenerationError,
    InvalidParameterError,
    ModelLoadError,
    ModelNotFoundError,
    ResourceExhaustedError,
)
from ...fingerprints import fingerprint
from ...registry import ModelSpec, default_registry

INSTALL_HINT = "install it with: pip install 'abstractvision[diffusers]'"
DTYPES = ("auto", "float32", "float16", "bfloat16")
_VERSIONED_LIBRARIES = ("torch", "diffusers", "transformers", "accelerate", "peft")


@dataclass(frozen=True)
class ResolvedModel:
    """A model id resolved to something ``from_pretrained`` can load."""

    name: str  # registry name when known, else the id as given
    source: str  # registry source ("builtin:tiny-sd", hub id) or the id as given
    location: str  # local folder, or a hub id when downloads are allowed
    revision: str | None  # snapshot commit for cached hub models, else the configured revision
    spec: ModelSpec


@dataclass(frozen=True)
class LoraSpec:
    name: str
    path: str
    weight: float


def check_installed() -> None:
    """``BackendUnavailableError`` naming the pip extra unless torch and diffusers are installed (not imported)."""
    missing = [name for name in ("torch", "diffusers", "transformers") if importlib.util.find_spec(name) is None]
    if missing:
        raise BackendUnavailableError(
            f"the diffusers backend needs torch and diffusers ({missing[0]} is missing); {INSTALL_HINT}",
            backend="diffusers",
        )


def import_torch_diffusers() -> tuple[Any, Any]:
    """``(torch, diffusers)``, or ``BackendUnavailableError`` naming the pip extra."""
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the diffusers backend needs torch and diffusers ({exc.name} is missing); {INSTALL_HINT}",
            backend="diffusers",
        ) from exc
    return torch, diffusers


def resolve_device(device: str) -> str:
    """``auto`` is cuda when available, else mps, else cpu."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def resolve_dtype_name(dtype: str, device: str) -> str:
    """``auto`` is float16 on cuda and float32 elsewhere."""
    if dtype != "auto":
        return dtype
    return "float16" if device.startswith("cuda") else "float32"


def resolve_model(
    spec: ModelSpec, *, allow_download: bool, revision: str | None, cache_dir: str | None
) -> ResolvedModel:
    """Find where ``spec``'s source (``builtin:`` name, local folder or hub id) loads from."""
    source, name = spec.source, spec.name
    if is_builtin(source):
        folder = ensure_builtin(source)
        return ResolvedModel(name, source, str(folder), None, spec)
    folder = Path(source).expanduser()
    if folder.is_dir():
        return ResolvedModel(name, source, str(folder), revision, spec)
    if _looks_like_path(source):
        raise ModelNotFoundError(
            f"model folder {source!r} does not exist; pass an existing diffusers folder (with model_index.json), "
            f"a Hugging Face id, or a registry name: {default_registry().names()}",
            backend="diffusers",
            model=name,
        )
    if allow_download:
        return ResolvedModel(name, source, source, revision, spec)
    snapshot = cached_snapshot(source, revision=revision, cache_dir=cache_dir)
    if snapshot is None and "/" not in source:  # not a hub id (org/name): most likely a misspelt model name
        known = default_registry().names()
        close = difflib.get_close_matches(source, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModelNotFoundError(
            f"unknown model {source!r}; {hint}known models are {known}; "
            "or pass a Hugging Face id (org/name) or a local diffusers folder",
            backend="diffusers",
            model=name,
        )
    if snapshot is None:
        raise ModelNotFoundError(
            f"model {source!r} is not in the local Hugging Face cache and downloads are disabled "
            "(backend.allow_download=false); download it once with `hf download "
            f"{source}` (or set allow_download=true), or pass a local folder as the model",
            backend="diffusers",
            model=name,
        )
    return ResolvedModel(name, source, str(snapshot), snapshot.name, spec)


def cached_snapshot(repo_id: str, *, revision: str | None, cache_dir: str | None) -> Path | None:
    """The cached snapshot folder of hub model ``repo_id`` (with its model_index.json), found without network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "model_index.json", cache_dir=cache_dir, revision=revision)
    return Path(found).parent if isinstance(found, str) else None


def load_pipeline(
    model: ResolvedModel,
    pipeline_class: str | None,
    *,
    dtype: Any,
    variant: str | None,
    cache_dir: str | None,
    safety_checker: bool,
) -> Any:
    """Load ``model`` as diffusers class ``pipeline_class`` (``None``: a text-to-image pipeline); errors translated."""
    local = Path(model.location).is_dir()
    hub_kwargs: dict[str, Any] = {"cache_dir": cache_dir, "local_files_only": local}
    if not local:
        hub_kwargs["revision"] = model.revision
    with translate_load_errors(model.name), quiet_progress_bars():
        import diffusers

        index = diffusers.DiffusionPipeline.load_config(model.location, **hub_kwargs)
        kwargs = _safety_checker_kwargs(index, enabled=safety_checker, model=model.name)
        cls = getattr(diffusers, pipeline_class) if pipeline_class else text_to_image_class(index)
        return cls.from_pretrained(model.location, variant=variant, **_dtype_kwarg(dtype), **hub_kwargs, **kwargs)


def text_to_image_class(index: Mapping[str, Any]) -> Any:
    """The pipeline class the model index names when it makes images from text alone, else AutoPipeline.

    Importing ``AutoPipelineForText2Image`` imports every pipeline diffusers has (hundreds of modules, seconds
    of start-up); the class named by ``_class_name`` imports only its own. A class whose call takes an
    ``image`` or ``mask_image`` (an image-to-image or inpainting index) is left to AutoPipeline, which maps it
    to its text-to-image sibling.
    """
    import diffusers

    named = getattr(diffusers, str(index.get("_class_name")), None)
    if isinstance(named, type) and issubclass(named, diffusers.DiffusionPipeline):
        if not {"image", "mask_image"} & set(inspect.signature(named.__call__).parameters):
            return named
    from diffusers import AutoPipelineForText2Image

    return AutoPipelineForText2Image


def _dtype_kwarg(dtype: Any) -> dict[str, Any]:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (0.42); use whichever this version takes without warning."""
    from diffusers.utils import deprecation_utils

    return {"dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype": dtype}


def _safety_checker_kwargs(index: Mapping[str, Any], *, enabled: bool, model: str) -> dict[str, Any]:
    shipped = index.get("safety_checker") not in (None, [None, None])
    if enabled and not shipped:
        raise InvalidParameterError(
            "backend.safety_checker", f"model {model!r} ships no safety checker; set safety_checker=false"
        )
    if not enabled and "safety_checker" in index:
        return {"safety_checker": None, "requires_safety_checker": False}
    return {}


def parse_loras(loras: Any) -> list[LoraSpec]:
    """Check the ``loras`` option (a list of ``{path, weight, name}``) and give each adapter a name."""
    if not isinstance(loras, (list, tuple)):
        raise InvalidParameterError("backend.loras", f"must be a list of {{path, weight, name}}, got {loras!r}")
    specs: list[LoraSpec] = []
    for index, item in enumerate(loras):
        field = f"backend.loras[{index}]"
        if not isinstance(item, Mapping) or not item.get("path"):
            raise InvalidParameterError(
                field, f"must be a mapping with a `path` (and optional weight, name), got {item!r}"
            )
        unknown = sorted(set(item) - {"path", "weight", "name"})
        if unknown:
            raise InvalidParameterError(
                f"{field}.{unknown[0]}", "unknown key; valid keys are ['name', 'path', 'weight']"
            )
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise InvalidParameterError(f"{field}.weight", f"must be a number, got {weight!r}")
        path = str(item["path"])
        name = str(item.get("name") or re.sub(r"\W", "_", Path(path).stem))
        if any(spec.name == name for spec in specs):
            raise InvalidParameterError(f"{field}.name", f"adapter name {name!r} is used twice; give each a `name`")
        specs.append(LoraSpec(name=name, path=path, weight=float(weight)))
    return specs


def lora_fingerprint(lora: LoraSpec, index: int, config: Any) -> str:
    """A LoRA by content (``sha256:...``), or a hub id when downloads are allowed; missing files fail now."""
    path = Path(lora.path).expanduser()
    if path.exists():
        return fingerprint(f"backend.loras[{index}].path", path)
    if config.allow_download and not _looks_like_path(lora.path):
        return f"hub:{lora.path}"
    raise InvalidParameterError(
        f"backend.loras[{index}].path",
        f"{lora.path!r} does not exist; with backend.allow_download=false a LoRA must be a local .safetensors file "
        "or folder (or set allow_download=true for a Hugging Face id)",
    )


def load_loras(pipe: Any, loras: list[LoraSpec], *, allow_download: bool, cache_dir: str | None, model: str) -> None:
    """Load each LoRA as a named adapter (weights are set per request with ``set_adapters``)."""
    if not loras:
        return
    try:
        import peft  # noqa: F401  (diffusers needs it for adapters)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"LoRA adapters need the peft package; {INSTALL_HINT}", backend="diffusers", model=model
        ) from exc
    for lora in loras:
        path = Path(lora.path).expanduser()
        if path.is_file():
            location, kwargs = str(path.parent), {"weight_name": path.name, "local_files_only": True}
        elif path.is_dir() or allow_download:
            location, kwargs = str(path) if path.is_dir() else lora.path, {"local_files_only": path.is_dir()}
        else:
            raise ModelNotFoundError(
                f"LoRA {lora.path!r} is not a local file or folder; with backend.allow_download=false a LoRA "
                "must be a local .safetensors file or folder (or set allow_download=true for a hub id)",
                backend="diffusers",
                model=model,
            )
        with translate_load_errors(model, what=f"LoRA {lora.path!r}"):
            pipe.load_lora_weights(location, adapter_name=lora.name, cache_dir=cache_dir, **kwargs)


def apply_memory_options(
    pipe: Any, *, device: str, cpu_offload: bool | str, vae_slicing: bool, vae_tiling: bool, attention_slicing: Any
) -> Any:
    """Move ``pipe`` to ``device`` (or offload it) and switch on the memory savers asked for."""
    if cpu_offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif cpu_offload:
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if vae is not None and vae_slicing:
        vae.enable_slicing()
    if vae is not None and vae_tiling:
        vae.enable_tiling()
    if attention_slicing not in (False, None):
        pipe.enable_attention_slicing("auto" if attention_slicing is True else attention_slicing)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextlib.contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Hide diffusers' and transformers' loading bars and transformers' import-time warnings (e.g. "requires
    torchvision", irrelevant to diffusion pipelines) while loading; the caller shows its own progress."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    enabled = [(lib, lib.is_progress_bar_enabled()) for lib in (diffusers_logging, transformers_logging)]
    verbosity = transformers_logging.get_verbosity()
    for lib, _ in enabled:
        lib.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        for lib, was_enabled in enabled:
            if was_enabled:
                lib.enable_progress_bar()


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """Read once per process: package metadata lookups cost milliseconds, paid on every image otherwise."""
    versions = {"abstractvision": __version__, "python": platform.python_version()}
    for name in _VERSIONED_LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return tuple(versions.items())


def library_versions() -> dict[str, str]:
    return dict(_installed_versions())


@contextlib.contextmanager
def translate_load_errors(model: str, what: str | None = None) -> Iterator[None]:
    """Re-raise third-party loading errors as ``ModelNotFoundError`` / ``ModelLoadError``."""
    what = what or f"model {model!r}"
    try:
        yield
    except AbstractVisionError:
        raise
    except Exception as exc:
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        if isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError)):
            raise ModelNotFoundError(
                f"{what} was not found on the Hugging Face Hub ({type(exc).__name__}); check the id and revision, "
                "or pass a local folder",
                backend="diffusers",
                model=model,
            ) from exc
        if _is_out_of_memory(exc):
            raise ResourceExhaustedError(
                f"out of memory while loading {what}; use dtype=float16, cpu_offload=true or a smaller model",
                backend="diffusers",
                model=model,
            ) from exc
        raise ModelLoadError(
            f"could not load {what}: {type(exc).__name__}: {exc}", backend="diffusers", model=model
        ) from exc


@contextlib.contextmanager
def translate_generation_errors(model: str) -> Iterator[None]:
    """Re-raise third-party errors during generation as ``ResourceExhaustedError`` / ``GenerationError``."""
    try:
        yield
    except AbstractVisionError:
        raise
    except Exception as exc:
        if _is_out_of_memory(exc):
            raise ResourceExhaustedError(
                "out of device memory while generating; lower width/height, set backend.dtype=float16, "
                "backend.cpu_offload=true, backend.vae_tiling=true or backend.attention_slicing=true",
                backend="diffusers",
                model=model,
            ) from exc
        raise GenerationError(
            f"diffusers failed while generating: {type(exc).__name__}: {exc}", backend="diffusers", model=model
        ) from exc


def _is_out_of_memory(exc: Exception) -> bool:
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom_type) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def _looks_like_path(source: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else with a separator is meant as a folder."""
    return source.startswith((".", "~", os.sep)) or source.count("/") > 1 or "\\" in source
