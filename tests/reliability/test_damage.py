"""Damage: an output truncated, altered or missing its sidecar is found and redone on resume (the same bytes
again); a manifest truncated or overwritten is refused with an error naming it and the way out, nothing is
changed and it is never recreated over the run; a damaged WAL loses at most the commits after the damage."""

from __future__ import annotations

import hashlib
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_checks import ImageServer, check_complete, http_args, report, snapshot
from run_helpers import cli, jobs, popen, wait_for_done

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
JOBS = 20
EMPTY = hashlib.sha256(b"").hexdigest()


def pngs(folder: Path) -> dict[str, str]:
    """The images of a run folder with their SHA-256 (sidecars hold timings, which differ between runs)."""
    return {name: sha for name, sha in snapshot(folder / "outputs").items() if name.endswith(".png")}


def finished_run(tmp_path: Path, server: ImageServer, jobs_: int = JOBS) -> tuple[tuple[str, ...], Path]:
    args = ("run", *http_args(server, f"seed=range(0,{jobs_})"), "run.dir=r")
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return args, tmp_path / "r"


def test_damaged_outputs_are_found_and_redone(tmp_path: Path, image_server: ImageServer, rng: random.Random) -> None:
    args, run_dir = finished_run(tmp_path, image_server)
    before = pngs(run_dir)
    truncated, altered, orphaned = rng.sample(sorted(jobs(run_dir)), 3)
    png = run_dir / "outputs" / f"{truncated}.png"
    png.write_bytes(png.read_bytes()[: png.stat().st_size // 2])
    png = run_dir / "outputs" / f"{altered}.png"
    data = bytearray(png.read_bytes())
    data[rng.randrange(len(data))] ^= 0xFF  # one byte flipped: the same size, only its SHA-256 tells
    png.write_bytes(bytes(data))
    (run_dir / "outputs" / f"{orphaned}.json").unlink()

    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"3 done now, {JOBS - 3} already done (3 redone: missing or corrupt)" in result.stdout
    assert pngs(run_dir) == before  # redone, to the same bytes
    check_complete(run_dir, JOBS, kills=0, redone=3)


def truncate_to_zero(path: Path, rng: random.Random) -> None:
    path.write_bytes(b"")


def truncate_to_half(path: Path, rng: random.Random) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage_pages(path: Path, rng: random.Random) -> None:
    """Random bytes over pages 2 and 3 (SQLite's pages are 4 KiB): the tables' pages, not the header."""
    data = bytearray(path.read_bytes())
    data[4096:12288] = rng.randbytes(8192)
    path.write_bytes(bytes(data))


def overwritten_header(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!\x00"
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ImageServer, tuple[str, ...], Path]]:
    """One finished run, for the damage cases to copy: its server, its command and its folder."""
    server = ImageServer()
    args, run_dir = finished_run(tmp_path_factory.mktemp("finished"), server)
    yield server, args, run_dir
    server.stop()


@pytest.mark.parametrize("damage", [truncate_to_zero, truncate_to_half, garbage_pages, overwritten_header])
def test_a_damaged_manifest_is_refused_with_the_way_out(damage, finished, tmp_path: Path, rng: random.Random) -> None:
    image_server, args, template = finished
    run_dir = tmp_path / "r"
    shutil.copytree(template, run_dir)
    damage(run_dir / "manifest.sqlite", rng)
    before, requests = snapshot(run_dir), image_server.requests

    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: r/manifest.sqlite is damaged (" in result.stderr
    assert "nothing was changed, and it is never recreated over the run" in result.stderr
    assert "move the run folder aside (keep it) and run the same command to start a new manifest" in result.stderr
    after = snapshot(run_dir)
    assert after.pop("manifest.sqlite-wal", EMPTY) == EMPTY  # SQLite's side files of a reader, empty
    after.pop("manifest.sqlite-shm", None)
    assert after == before and image_server.requests == requests  # every byte of the run as it was

    run_dir.rename(tmp_path / "r.damaged")  # the way out the error gives
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    check_complete(run_dir, JOBS, kills=0)
    assert pngs(run_dir) == pngs(tmp_path / "r.damaged")  # the same config, the same files


def test_a_damaged_wal_loses_only_the_commits_after_the_damage(
    tmp_path: Path, image_server: ImageServer, rng: random.Random
) -> None:
    jobs_ = 100
    args = ("run", *http_args(image_server, f"seed=range(0,{jobs_})"), "run.dir=r")
    runner = popen(*args, cwd=tmp_path)
    run_dir = tmp_path / "r"
    wait_for_done(run_dir, runner, at_least=30)
    runner.kill()  # kill -9: the last commits are in the WAL only
    runner.communicate()
    wal = run_dir / "manifest.sqlite-wal"
    done_in_wal = sum(1 for row in jobs(run_dir).values() if row["status"] == "done")
    data = bytearray(wal.read_bytes())
    at = rng.randrange(32, len(data) - 64)
    data[at : at + 64] = rng.randbytes(64)
    wal.write_bytes(bytes(data))

    done_after = sum(1 for row in jobs(run_dir).values() if row["status"] == "done")
    assert done_after <= done_in_wal  # SQLite stops at the first frame whose checksum fails: an older state
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    check_complete(run_dir, jobs_, kills=1)
    report("damaged WAL", jobs=jobs_, done_at_kill=done_in_wal, done_after_damage=done_after, wal_bytes=len(data))


def test_a_missing_manifest_is_never_recreated_over_the_outputs(tmp_path: Path, image_server: ImageServer) -> None:
    args, run_dir = finished_run(tmp_path, image_server)
    for side in ("", "-wal", "-shm"):
        (run_dir / f"manifest.sqlite{side}").unlink(missing_ok=True)
    before = snapshot(run_dir)
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "run.dir 'r' holds other files (outputs) and no manifest.sqlite" in result.stderr
    assert snapshot(run_dir) == before
