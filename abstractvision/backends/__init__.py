"""Backend adapters: one package per engine, each importing its heavy dependencies lazily."""

from __future__ import annotations

import importlib
from typing import Any

from .base_backend import VisionBackend

_LAZY = {
    "OpenAICompatibleBackendConfig": "openai_compatible",
    "OpenAICompatibleVisionBackend": "openai_compatible",
    "HuggingFaceDiffusersBackendConfig": "huggingface_diffusers",
    "HuggingFaceDiffusersVisionBackend": "huggingface_diffusers",
    "StableDiffusionCppBackendConfig": "stable_diffusion_cpp",
    "StableDiffusionCppVisionBackend": "stable_diffusion_cpp",
}

__all__ = ["VisionBackend", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
