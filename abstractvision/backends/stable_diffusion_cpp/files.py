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

from ...builtin import builder_version, ensure_builtin, is_builtin
from ...errors import InvalidParameterError, ModelNotFoundError
from ...fingerprints import fingerprint
from ...registry import ModelSpec

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
    spec: ModelSpec, explicit: Mapping[str, str | None], model_dir: str | None = None
) -> ModelFiles:
    """The files of model ``spec`` (its source and components) plus explicit component options, which win."""
    base = _base_dir(model_dir)
    named = named_files(spec, explicit)
    main = named.pop("model", None)
    return ModelFiles(
        name=spec.name or Path(named["diffusion_model"][1]).name,
        model=_existing(*main, base, spec) if main else None,
        components={role: _existing(*named[role], base, spec) for role in COMPONENTS if role in named},
    )


def file_identities(
    spec: ModelSpec, explicit: Mapping[str, str | None], model_dir: str | None = None
) -> dict[str, str]:
    """Each file a context would load, by content; a built-in model by its name and builder version (it is
    built the same way everywhere, and is not built just to be named). Missing files fail here."""
    base = _base_dir(model_dir)
    identities = {}
    for role, (option, text) in named_files(spec, explicit).items():
        if is_builtin(text):
            identities[role] = f"{text}@v{builder_version(text)}"
        else:
            identities[role] = fingerprint(option, _existing(option, text, base, spec))
    return identities


def named_files(spec: ModelSpec, explicit: Mapping[str, str | None]) -> dict[str, tuple[str, str]]:
    """``role -> (option that names it, path text)``; the full model, if any, under ``"model"``."""
    named: dict[str, tuple[str, str]] = {}
    named.update({role: (f"model.components.{role}", text) for role, text in spec.components.items()})
    if spec.source:
        source_role = "diffusion_model" if _is_split(spec) and "diffusion_model" not in spec.components else "model"
        named[source_role] = ("backend.model" if spec.name == spec.source else "model.source", spec.source)
    named.update({role: (f"backend.{role}", text) for role, text in explicit.items() if text})
    unknown = sorted(set(named) - {"model", *COMPONENTS})
    if unknown:
        raise InvalidParameterError(
            named[unknown[0]][0], f"unknown component {unknown[0]!r}; valid components are {list(COMPONENTS)}"
        )
    if "model" not in named and "diffusion_model" not in named:
        raise InvalidParameterError(
            "backend.model",
            "no model given: set `model` (a registry name, a .gguf/.safetensors/.ckpt file or a diffusers folder) "
            "or `diffusion_model` with its text encoders and VAE",
        )
    return named


def _is_split(spec: ModelSpec) -> bool:
    """Whether a registry model's ``source`` is a standalone diffusion model (it ships text encoders apart)."""
    return any(role in spec.components for role in TEXT_ENCODERS)


def _base_dir(model_dir: str | None) -> Path:
    text = model_dir or os.environ.get(MODEL_DIR_ENV) or "."
    return Path(text).expanduser()


def _existing(option: str, text: str, base: Path, spec: ModelSpec) -> Path:
    if is_builtin(text):
        return _builtin(option, text)
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if path.exists():
        return path.resolve()
    cached = _hub_cache_folder(text)
    if cached is not None:
        return cached
    hint = f" ({spec.description})" if spec.description else ""
    raise ModelNotFoundError(
        f"`{option}`: {str(path)!r} does not exist{hint}. Download the file (docs/backend-sdcpp.md lists them), "
        f"then pass its path, or set `backend.model_dir` / ${MODEL_DIR_ENV} to the folder holding it",
        backend="sdcpp",
        model=spec.name,
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
