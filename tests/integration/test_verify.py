"""``abstractvision verify`` on a real tiny-sd run: an untouched run reproduces, an altered file is caught, and
each verification is recorded in the manifest with where it ran."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from run_helpers import cli

from abstractvision.cli import main
from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.manifest import Manifest
from abstractvision.pipeline.recorded_groups import recorded_group


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    done = cli("run", "prompt=a red fox", "seed=0,1", "steps=2", f"run.dir={folder / 'run'}", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "run"


def verifications(run_dir: Path) -> list[dict]:
    conn = sqlite3.connect(run_dir / "manifest.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM verifications ORDER BY verified_at")]
    finally:
        conn.close()


@pytest.mark.slow
def test_an_untouched_run_reproduces_and_is_recorded(run_dir: Path, capsys) -> None:
    assert main(["verify", str(run_dir), "--sample", "5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok ") == 2 and "2 of 2 jobs reproduced" in out
    [record] = verifications(run_dir)
    environment = json.loads(record["environment"])
    assert record["checked"] == 2 and record["mismatched"] == 0 and record["host"]
    assert environment["threads"] >= 1 and environment["device"] == "cpu" and "torch" in environment["versions"]
    assert [r["max_diff"] for r in json.loads(record["results"])] == [0, 0]


@pytest.mark.slow
def test_an_altered_file_is_a_mismatch(run_dir: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    victim = sorted((copy / "outputs").glob("*.png"))[0]
    with Image.open(victim) as image:
        altered = image.convert("RGB")
    altered.putpixel((0, 0), tuple(255 - c for c in altered.getpixel((0, 0))))
    altered.save(victim)
    assert main(["verify", str(copy), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert f"{victim.stem}   MISMATCH" in out and "same device, dtype and versions" in out
    assert "1 of 2 jobs reproduced, 1 did not" in out
    assert verifications(copy)[-1]["mismatched"] == 1


def test_bad_input_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path / "nothing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err and not (tmp_path / "nothing").exists()
    manifest = Manifest(":memory:")
    manifest.add_group("g1", "openai", "remote", {"base_url": "http://127.0.0.1:1/v1", "api_key": "<redacted>"})
    with pytest.raises(InvalidParameterError, match=r"option\(s\) \['api_key'\] were redacted .* --backend-option api"):
        recorded_group(manifest, "g1")
