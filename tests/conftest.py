"""Shared fixtures.

The tiny models are built once per test session into a session folder, unless ``ABSTRACTVISION_CACHE``
is already set (then that cache is used and reused across sessions). Subprocesses started by tests
inherit the variable, so they find the same build.

Torch runs single-threaded here unless ``OMP_NUM_THREADS`` says otherwise: the tiny models gain nothing
from a second thread, and on a busy machine OpenMP threads spinning against other processes made one
64x64 image take 5-17 s instead of about 1 s (measured on the 2-core development box).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before anything imports torch


@pytest.fixture(scope="session", autouse=True)
def abstractvision_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cache folder of this session (``$ABSTRACTVISION_CACHE``, set to a session folder if unset)."""
    if not os.environ.get("ABSTRACTVISION_CACHE"):
        os.environ["ABSTRACTVISION_CACHE"] = str(tmp_path_factory.mktemp("abstractvision-cache"))
    return Path(os.environ["ABSTRACTVISION_CACHE"])


@pytest.fixture(scope="session")
def tiny_sd_path(abstractvision_cache: Path) -> Path:
    """The folder of the built tiny-sd diffusers pipeline (built on first use)."""
    pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")
    from abstractvision.builtin import ensure_builtin

    return ensure_builtin("tiny-sd")
