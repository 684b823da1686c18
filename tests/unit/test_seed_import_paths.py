"""The seed document's import paths and public names keep working after backends became packages."""

from __future__ import annotations

import importlib

import pytest

import abstractvision

SEED_PATHS = {
    "abstractvision.backends.base_backend": ["VisionBackend"],
    "abstractvision.vision_manager": ["VisionManager"],
    "abstractvision.backends.openai_compatible": ["OpenAICompatibleBackendConfig", "OpenAICompatibleVisionBackend"],
    "abstractvision.backends.huggingface_diffusers": [
        "HuggingFaceDiffusersBackendConfig",
        "HuggingFaceDiffusersVisionBackend",
    ],
    "abstractvision.backends.stable_diffusion_cpp": [
        "StableDiffusionCppBackendConfig",
        "StableDiffusionCppVisionBackend",
    ],
}


@pytest.mark.parametrize("module", sorted(SEED_PATHS))
def test_seed_import_path(module: str) -> None:
    imported = importlib.import_module(module)
    for name in SEED_PATHS[module]:
        assert getattr(imported, name) is getattr(abstractvision, name)
