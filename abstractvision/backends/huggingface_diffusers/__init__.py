"""Local inference with Hugging Face diffusers (backend, loading, schedulers)."""

from __future__ import annotations

from .backend import HuggingFaceDiffusersBackendConfig, HuggingFaceDiffusersVisionBackend

__all__ = ["HuggingFaceDiffusersBackendConfig", "HuggingFaceDiffusersVisionBackend"]
