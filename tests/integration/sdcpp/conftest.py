"""Fixtures for the stable-diffusion.cpp tests: the SD1.x-layout model (built once per session) and the runtimes.

stable-diffusion.cpp cannot load the tiny models, so these tests use the random SD1.x-layout model from
``abstractvision.builtin.sd1_layout`` (about 1 GB, about 15 s to build). Python mode needs
stable-diffusion-cpp-python; CLI mode needs an sd-cli binary (``$ABSTRACTVISION_SD_CLI``, PATH, or the
build-cli cache). A missing runtime skips its tests with the command that installs it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

MODES = ("python", "cli")


@pytest.fixture(scope="session")
def sd1_model(abstractvision_cache: Path) -> Path:
    """The SD1.x-layout diffusers folder stable-diffusion.cpp loads."""
    if importlib.util.find_spec("diffusers") is None:  # find_spec: importing torch here would cost seconds
        pytest.skip("building the SD1.x-layout model needs: pip install 'abstractvision[diffusers]'")
    from abstractvision.builtin.sd1_layout import ensure_sd1_layout_model

    return ensure_sd1_layout_model()


@pytest.fixture(scope="session")
def sd_cli() -> Path:
    from abstractvision.backends.stable_diffusion_cpp.cli_runner import find_sd_cli

    path = find_sd_cli(None)
    if path is None:
        pytest.skip("sd-cli not found: build it with `abstractvision sdcpp build-cli` and set ABSTRACTVISION_SD_CLI")
    return path


def require_mode(mode: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Backend options that select ``mode``; skips when that runtime is not installed."""
    if mode == "python":
        if importlib.util.find_spec("stable_diffusion_cpp") is None:
            pytest.skip(
                "needs stable-diffusion-cpp-python: "
                "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'abstractvision[sdcpp]'"
            )
        return {"mode": "python"}
    return {"mode": "cli", "sd_cli_path": str(request.getfixturevalue("sd_cli"))}


@pytest.fixture
def options_for(request: pytest.FixtureRequest) -> Callable[[str], dict[str, Any]]:
    """``options_for(mode)``: backend options for that mode (skipping the test when it is not installed)."""
    return lambda mode: require_mode(mode, request)


@pytest.fixture(scope="module", params=MODES)
def mode_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    return require_mode(request.param, request)


@pytest.fixture(scope="module")
def make_backend(mode_options: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Builds sdcpp backends in the module's mode; unloads them all at the end."""
    from abstractvision.backends.stable_diffusion_cpp.backend import (
        StableDiffusionCppBackendConfig,
        StableDiffusionCppVisionBackend,
    )

    made = []

    def make(model: str | Path, **options: Any) -> StableDiffusionCppVisionBackend:
        config = StableDiffusionCppBackendConfig(model=str(model), **{**mode_options, **options})
        made.append(StableDiffusionCppVisionBackend(config))
        return made[-1]

    yield make
    for backend in made:
        backend.unload()


@pytest.fixture(scope="module")
def backend(make_backend: Callable[..., Any], sd1_model: Path) -> Any:
    """One backend per mode for the whole module: Python mode keeps its context loaded across tests."""
    return make_backend(sd1_model)
