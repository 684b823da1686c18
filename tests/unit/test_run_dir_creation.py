"""A runner killed while it creates a run folder's manifest leaves a folder the next runner resumes.

A real process is killed (``os._exit`` in place of each migration in turn, so at each point of the schema's
creation). CI's kill suite once caught a folder whose manifest held the ``migrations`` table and nothing else, which
every later runner refused as "not an AbstractVision manifest"; killed after the first migration, the folder was
refused as made under identity version 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from abstractvision.pipeline.manifest import _MIGRATIONS
from abstractvision.pipeline.run_dir import RunDir

KILL_DURING = """
import os, sys
from abstractvision.pipeline import manifest
from abstractvision.pipeline.run_dir import RunDir

name = list(manifest._MIGRATIONS)[int(sys.argv[2])]
manifest._MIGRATIONS[name] = lambda conn: os._exit(9)  # the ones before it are committed
with RunDir(sys.argv[1]).open_for_writing():
    pass
"""


@pytest.mark.parametrize("killed_before", range(len(_MIGRATIONS)))
def test_a_runner_killed_while_creating_the_manifest_leaves_a_folder_that_resumes(
    tmp_path: Path, killed_before: int
) -> None:
    run_dir = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILL_DURING, str(run_dir), str(killed_before)], capture_output=True)
    assert killed.returncode == 9, killed.stderr

    with RunDir(run_dir).open_for_writing() as manifest:
        assert manifest.counts()["total"] == 0
        applied = [row[0] for row in manifest.conn.execute("SELECT name FROM migrations")]
    assert applied == list(_MIGRATIONS)
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock", "manifest.sqlite"]
