"""Which files a stable-diffusion.cpp context loads: one model file or folder, or separate components.

A registry name resolves to its ``source`` and ``components``; explicit backend options win over the
registry. Relative paths resolve against ``model_dir`` (the option, else ``$ABSTRACTVISION_MODEL_DIR``,
else the current folder). Every file is checked before anything loads, so a missing download is reported
with the option that names it instead of as a crash inside the library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...builtin import ensure_builtin, is_builtin
from ...errors import InvalidParameterError, ModelNotFoundError
from ...registry import ModelSpec, default_registry

#: Files a context can take besides the full model, in sd-cli's order.
COMPONENTS = ("diffusion_model", "vae", "clip_l", "clip_g", "t5xxl", "llm")
TEXT_ENCODERS = ("clip_l", "clip_g", "t5xxl", "llm")
MODEL_DIR_ENV = "ABSTRACTVISION_MODEL_DIR"


@dataclass(frozen=True)
class ModelFiles:
    """Resolved, existing paths: ``model`` (a full model) and/or ``components`` by role."""

    name: str
    model: Path | None = None
    components: Mapping[str, Path] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The main file, for metadata: the full model, else the diffusion model."""
        main = self.model or self.components.get("diffusion_model")
        return str(main)

    def describe(self) -> str:
        parts = [f"model={self.model}"] if self.model else []
        parts += [f"{role}={path}" for role, path in self.components.items()]
        return ", ".join(parts)

    def as_dict(self) -> dict[str, str]:
        files = {"model": str(self.model)} if self.model else {}
        return files | {role: str(path) for role, path in self.components.items()}


def resolve_model_files(
    model: str | None, explicit: Mapping[str, str | None], model_dir: str | None = None
) -> ModelFiles:
    """The files for backend option ``model`` (registry name, file or folder) plus explicit components."""
    spec = default_registry().find(model) if model else None
    base = _base_dir(model_dir)
    candidates: dict[str, tuple[str, str]] = {}  # role -> (option that named it, path text)
    main: tuple[str, str] | None = None
    if spec is not None:
        candidates.update({role: (f"model.components.{role}", text) for role, text in spec.components.items()})
        source_role = "diffusion_model" if _is_split(spec) and "diffusion_model" not in spec.components else None
        if source_role:
            candidates[source_role] = ("model.source", spec.source)
        else:
            main = ("model.source", spec.source)
    elif model:
        main = ("backend.model", model)
    candidates.update({role: (f"backend.{role}", text) for role, text in explicit.items() if text})
    unknown = sorted(set(candidates) - set(COMPONENTS))
    if unknown:
        raise InvalidParameterError(
            candidates[unknown[0]][0], f"unknown component {unknown[0]!r}; valid components are {list(COMPONENTS)}"
        )
    if main is None and "diffusion_model" not in candidates:
        raise InvalidParameterError(
            "backend.model",
            "no model given: set `model` (a registry name, a .gguf/.safetensors/.ckpt file or a diffusers folder) "
            "or `diffusion_model` with its text encoders and VAE",
        )
    name = spec.name if spec else (model or Path(candidates["diffusion_model"][1]).name)
    return ModelFiles(
        name=name,
        model=_existing(*main, base, spec) if main else None,
        components={role: _existing(*candidates[role], base, spec) for role in COMPONENTS if role in candidates},
    )


def _is_split(spec: ModelSpec) -> bool:
    """Whether a registry model's ``source`` is a standalone diffusion model (it ships text encoders apart)."""
    return any(role in spec.components for role in TEXT_ENCODERS)


def _base_dir(model_dir: str | None) -> Path:
    text = model_dir or os.environ.get(MODEL_DIR_ENV) or "."
    return Path(text).expanduser()


def _existing(option: str, text: str, base: Path, spec: ModelSpec | None) -> Path:
    if is_builtin(text):
        return _builtin(option, text)
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if path.exists():
        return path.resolve()
    cached = _hub_cache_folder(text)
    if cached is not None:
        return cached
    hint = f" ({spec.description})" if spec and spec.description else ""
    raise ModelNotFoundError(
        f"`{option}`: {str(path)!r} does not exist{hint}. Download the file (docs/backend-sdcpp.md lists them), "
        f"then pass its path, or set `backend.model_dir` / ${MODEL_DIR_ENV} to the folder holding it",
        backend="sdcpp",
        model=spec.name if spec else text,
    )


def _builtin(option: str, source: str) -> Path:
    if source != "builtin:sd1-layout":
        raise ModelNotFoundError(
            f"`{option}`: stable-diffusion.cpp cannot load {source!r} (it recognises only the real SD1.x/SDXL/FLUX "
            "tensor layouts); the one built-in model it runs is 'builtin:sd1-layout'",
            backend="sdcpp",
            model=source,
        )
    return ensure_builtin(source)


def _hub_cache_folder(text: str) -> Path | None:
    """A Hugging Face repo id already in the local hub cache, as a diffusers folder (never downloads)."""
    if text.count("/") != 1 or text.startswith((".", "/", "~")):
        return None
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return Path(snapshot_download(text, local_files_only=True))
    except (OSError, ValueError):  # not cached, or not a repo id: the caller reports the missing path
        return None
