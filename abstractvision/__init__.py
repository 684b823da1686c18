"""AbstractVision: declarative, reproducible generative-vision pipelines.

``import abstractvision`` stays light: torch, diffusers and stable_diffusion_cpp are imported only
when a backend that needs them is used.
"""

from __future__ import annotations

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
    ModelLoadError,
    ModelNotFoundError,
    ResourceExhaustedError,
    RunError,
    RunLockedError,
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
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelRegistry",
    "ModelSpec",
    "MultiAngleRequest",
    "OpenAICompatibleBackendConfig",
    "OpenAICompatibleVisionBackend",
    "ResourceExhaustedError",
    "RunError",
    "RunLockedError",
    "StableDiffusionCppBackendConfig",
    "StableDiffusionCppVisionBackend",
    "VideoGenerationRequest",
    "VisionBackend",
    "VisionBackendCapabilities",
    "VisionManager",
    "__version__",
    "default_registry",
]


def __getattr__(name: str) -> Any:
    """Backend classes resolve lazily so that their heavy imports happen on first use."""
    if name in backends.__all__:
        return getattr(backends, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
