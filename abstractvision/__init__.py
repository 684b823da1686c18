"""AbstractVision: declarative, reproducible generative-vision pipelines.

``import abstractvision`` stays light: torch, diffusers and stable_diffusion_cpp are imported only
when a backend that needs them is used, and the run API (``plan``, ``run``, ``open_run``) resolves on
first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import backends
from .backends import VisionBackend
from .errors import (
    AbstractVisionError,
    BackendConnectionError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    CapabilityNotSupportedError,
    GenerationError,
    InvalidParameterError,
    JobInterruptedError,
    ManifestDamagedError,
    ModelLoadError,
    ModelNotFoundError,
    PreflightError,
    ResourceExhaustedError,
    RunError,
    RunLockedError,
    RunWriteError,
    WorkerCrashedError,
)
from .registry import ModelRegistry, ModelSpec, default_registry
from .tasks import TASKS
from .types import (
    GeneratedAsset,
    ImageEditRequest,
    ImageGenerationRequest,
    ImageToVideoRequest,
    MultiAngleRequest,
    VideoGenerationRequest,
    VisionBackendCapabilities,
)
from .vision_manager import VisionManager

__version__ = "0.1.0"

# Public name -> the module that defines it, imported on first use.
_RUN_API = {
    "RunItem": "abstractvision.pipeline.results",
    "RunPlan": "abstractvision.pipeline.preview",
    "RunResult": "abstractvision.pipeline.results",
    "open_run": "abstractvision.pipeline.results",
    "plan": "abstractvision.pipeline.api",
    "run": "abstractvision.pipeline.api",
}

__all__ = [
    "TASKS",
    "AbstractVisionError",
    "BackendConnectionError",
    "BackendResponseError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "CapabilityNotSupportedError",
    "GeneratedAsset",
    "GenerationError",
    "HuggingFaceDiffusersBackendConfig",
    "HuggingFaceDiffusersVisionBackend",
    "ImageEditRequest",
    "ImageGenerationRequest",
    "ImageToVideoRequest",
    "InvalidParameterError",
    "JobInterruptedError",
    "ManifestDamagedError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelRegistry",
    "ModelSpec",
    "MultiAngleRequest",
    "OpenAICompatibleBackendConfig",
    "OpenAICompatibleVisionBackend",
    "PreflightError",
    "ResourceExhaustedError",
    "RunError",
    "RunItem",
    "RunLockedError",
    "RunPlan",
    "RunResult",
    "RunWriteError",
    "StableDiffusionCppBackendConfig",
    "StableDiffusionCppVisionBackend",
    "VideoGenerationRequest",
    "VisionBackend",
    "VisionBackendCapabilities",
    "VisionManager",
    "WorkerCrashedError",
    "__version__",
    "default_registry",
    "open_run",
    "plan",
    "run",
]


def __getattr__(name: str) -> Any:
    """Backend classes and the run API resolve lazily so that their imports happen on first use."""
    if name in backends.__all__:
        return getattr(backends, name)
    if name in _RUN_API:
        return getattr(importlib.import_module(_RUN_API[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
