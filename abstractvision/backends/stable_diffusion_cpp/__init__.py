"""stable-diffusion.cpp through sd-cli or its Python binding (backend, files, runners, build)."""

from __future__ import annotations

from .backend import StableDiffusionCppBackendConfig, StableDiffusionCppVisionBackend

__all__ = ["StableDiffusionCppBackendConfig", "StableDiffusionCppVisionBackend"]
