"""The public surface is pinned, and importing it stays light (no torch)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import abstractvision
from abstractvision import errors

EXPECTED_ALL = {
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
}


def test_all_is_pinned():
    assert set(abstractvision.__all__) == EXPECTED_ALL


def test_every_error_the_troubleshooting_page_lists_is_importable_from_the_top():
    """A user catches what the page explains (``except abstractvision.RunWriteError``), not a private path."""
    page = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
    listed = set(re.findall(r"^\| `(\w+Error)`", page.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert {"RunWriteError", "ManifestDamagedError", "PreflightError"} <= listed
    assert listed <= set(abstractvision.__all__)


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_import_does_not_import_torch():
    out = run_python(
        "import sys, abstractvision, abstractvision.cli; abstractvision.cli.build_parser(); "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'stable_diffusion_cpp', 'ray', 'fastapi') "
        "if m in sys.modules))"
    )
    assert out == "[]"


def test_backend_classes_resolve_lazily():
    out = run_python(
        "import sys, abstractvision; assert 'torch' not in sys.modules; "
        "cls = abstractvision.HuggingFaceDiffusersVisionBackend; print(cls.__name__)"
    )
    assert out == "HuggingFaceDiffusersVisionBackend"


def test_run_api_resolves_lazily():
    out = run_python(
        "import sys, abstractvision; assert 'abstractvision.pipeline.api' not in sys.modules; "
        "print(abstractvision.run.__module__, abstractvision.open_run.__module__, abstractvision.RunPlan.__name__)"
    )
    assert out == "abstractvision.pipeline.api abstractvision.pipeline.results RunPlan"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        abstractvision.Nope  # noqa: B018


def test_every_error_is_an_abstractvision_error_with_context():
    error = errors.InvalidParameterError("width", "must be a multiple of 8", job_id="j1", backend="diffusers")
    assert isinstance(error, errors.AbstractVisionError)
    assert isinstance(error, ValueError)
    assert (error.field, error.job_id, error.backend) == ("width", "j1", "diffusers")
    assert isinstance(errors.ModelNotFoundError("x"), LookupError)
    assert isinstance(errors.BackendUnavailableError("x"), ImportError)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (errors.BackendConnectionError("refused"), True),
        (errors.BackendTimeoutError("slow"), True),
        (errors.BackendResponseError("busy", status_code=429), True),
        (errors.BackendResponseError("boom", status_code=503), True),
        (errors.BackendResponseError("bad", status_code=400), False),
        (errors.InvalidParameterError("width", "bad"), False),
        (errors.ResourceExhaustedError("oom"), False),
        (RuntimeError("foreign"), False),
    ],
)
def test_retry_policy_reads_the_class(error, retryable):
    assert errors.is_retryable(error) is retryable
