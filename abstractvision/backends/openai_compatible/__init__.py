"""Any OpenAI-compatible image/video server over HTTP (backend, transport, profiles, responses, video)."""

from __future__ import annotations

from .backend import OpenAICompatibleBackendConfig, OpenAICompatibleVisionBackend

__all__ = ["OpenAICompatibleBackendConfig", "OpenAICompatibleVisionBackend"]
