"""Shared fixtures, and the session settings every pytest-xdist worker shares.

The suite runs on ``-n auto`` workers (pyproject's ``addopts``; ``-n 0`` runs it in one
process). The controller picks, before it starts the workers (which inherit its environment), the settings they
must agree on: one tiny-model cache for the session, unless ``ABSTRACTVISION_CACHE`` is already set (then that
cache is used and reused across sessions), and one ``RELIABILITY_SEED`` (printed in the header, to replay a
session's kill moments). Subprocesses started by tests inherit both.

Workers take whole test files (``--dist loadfile``). Tests marked ``machine_wide`` hold one lock while they run,
so that no two workers use the same machine-wide thing at once: a local Ray cluster (Ray's ``address=auto``, and
a start with no address, join any cluster running on the machine) and the docs' server on port 8000. Only the
tests that start or join a cluster, or serve, carry the mark: the rest of those files runs alongside.

Torch runs single-threaded here unless ``OMP_NUM_THREADS`` says otherwise: the tiny models gain nothing
from a second thread, and on a busy machine OpenMP threads spinning against other processes made one
64x64 image take 5-17 s instead of about 1 s (measured on the 2-core development box).
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before anything imports torch

_MADE_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has set everything
        return
    os.environ.setdefault("RELIABILITY_SEED", str(random.SystemRandom().randrange(2**32)))
    if not os.environ.get("ABSTRACTVISION_CACHE"):
        config.stash[_MADE_CACHE] = tempfile.mkdtemp(prefix="abstractvision-cache-")
        os.environ["ABSTRACTVISION_CACHE"] = config.stash[_MADE_CACHE]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _MADE_CACHE in config.stash:
        shutil.rmtree(config.stash[_MADE_CACHE], ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str:
    full = os.environ.get("RELIABILITY_FULL") == "1"
    return f"RELIABILITY_SEED={os.environ['RELIABILITY_SEED']} ({'full' if full else 'fast'} set)"


@pytest.fixture(autouse=True)
def one_worker_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hold the machine-wide lock while a ``machine_wide`` test runs (a no-op for every other test)."""
    if request.node.get_closest_marker("machine_wide") is None:
        yield
        return
    with open(Path(os.environ["ABSTRACTVISION_CACHE"]) / ".ray-and-port-8000.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def abstractvision_cache() -> Path:
    """The cache folder of this session (``$ABSTRACTVISION_CACHE``, see ``pytest_configure``)."""
    return Path(os.environ["ABSTRACTVISION_CACHE"])


@pytest.fixture(scope="session")
def tiny_sd_path(abstractvision_cache: Path) -> Path:
    """The folder of the built tiny-sd diffusers pipeline (built on first use)."""
    pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")
    from abstractvision.builtin import ensure_builtin

    return ensure_builtin("tiny-sd")
