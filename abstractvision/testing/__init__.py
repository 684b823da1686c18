"""Builders for the tiny offline models used by tests, CI and the default run."""

from __future__ import annotations

from .tiny_models import (
    BUILDER_VERSION,
    BUILTIN_MODELS,
    build_tiny_lora,
    builtin_model_path,
    cache_root,
    ensure_builtin_model,
)

__all__ = [
    "BUILDER_VERSION",
    "BUILTIN_MODELS",
    "build_tiny_lora",
    "builtin_model_path",
    "cache_root",
    "ensure_builtin_model",
]
