"""Fixtures of the reliability suites (helpers in ``reliability_checks.py``).

Counts: the fast default runs a few kills; ``RELIABILITY_FULL=1`` (exported by ``.ci/run``) runs the full counts
and the 10,000-job memory run. ``RELIABILITY_SEED=N`` replays the random moments of an earlier session: each
session prints its seed in the header (tests/conftest.py picks it).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_checks import ImageServer, Tmpfs


@pytest.fixture(scope="session")
def reliability_seed() -> int:
    """The seed of this session's random moments (``RELIABILITY_SEED``, given or picked for the session)."""
    return int(os.environ["RELIABILITY_SEED"])


@pytest.fixture
def rng(reliability_seed: int, request: pytest.FixtureRequest) -> random.Random:
    """A generator per test, from the session seed and the test's name (tests replay independently)."""
    return random.Random(f"{reliability_seed}:{request.node.name}")


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    server = ImageServer(delay_s=0.01)
    yield server
    server.stop()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Tmpfs]]:
    """``tmpfs("256k")`` mounts a tmpfs of that size under ``tmp_path`` (or ``at=`` a folder); unmounted after
    the test. Skips, saying why, where mounting is not permitted."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("the disk tests mount a tmpfs, which needs root and the mount command")
    mounted: list[Tmpfs] = []

    def mount(size: str, at: Path | None = None) -> Tmpfs:
        mounted.append(Tmpfs(at or tmp_path / f"fs{len(mounted)}", size))
        return mounted[-1]

    yield mount
    for fs in reversed(mounted):
        fs.unmount()
