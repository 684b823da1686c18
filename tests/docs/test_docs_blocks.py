"""Docs that cannot rot: every shell, Python and YAML block of README.md and docs/*.md runs as written.

The pages run in reading order, each in one subprocess (``doc_session.py``), all in one folder, as a reader who
follows the docs in one checkout would: a command a later page repeats resumes instead of working again, and a
page's blocks may use what its earlier blocks made. That folder holds a copy of the repository's ``conf/`` and the
files the docs assume the reader has: ``ref.png``, ``mask.png`` (white left half) and ``inputs/`` (two images),
all 64x64. ``abstractvision`` of this checkout is on ``PATH``; the Hugging Face cache is an empty temporary one,
the tiny models come from the session's ``$ABSTRACTVISION_CACHE``, and ``$ABSTRACTVISION_SD_CLI`` passes through.

Markers, one HTML comment per line right before a fence (parsed in ``doc_blocks.py``):

- ``<!-- needs: gpu -->`` / ``hub`` / ``cluster`` / ``install`` / ``checkout``: skipped, and counted in the
  summary line.
- ``<!-- needs: sdcpp -->``: runs where stable-diffusion.cpp is installed (sd-cli or the Python binding).
- ``<!-- docs: background -->``: a server (``abstractvision serve``, on the docs' port 8000), started before the
  page's next blocks and stopped after its last one.
- ``<!-- docs: fragment -->``: not runnable on its own (a shape shown in prose); counted. Prefer a runnable example.

A YAML block starts with a comment naming its file (``# conf/model/mine.yaml``): it is written there and composed
with its option selected. Blocks in other languages (``json``, ``text``, none) are output, not code, and are not
run. Pages that other tests run are left to them (``TESTED_ELSEWHERE``), so nothing runs twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from doc_blocks import PAGES, ROOT, RUN, TESTED_ELSEWHERE, machine_wide, read_blocks, to_run

PAGE_TIMEOUT_S = 900  # one page, with room for a busy shared machine (README.md took 230 s at load 5)


def test_every_block_is_well_marked() -> None:
    """Every page parses; every YAML example names its file; what TESTED_ELSEWHERE points at exists."""
    for page in PAGES:
        for block in read_blocks(ROOT / page, page):
            assert block.language in (*RUN, "json", "text", ""), f"{block.where}: unknown language {block.language!r}"
            if block.language == "yaml" and block.markers.get("docs") != "fragment":
                assert block.text.startswith("# ") and ".yaml" in block.text.splitlines()[0], block.where
    for test, _ in TESTED_ELSEWHERE.values():
        assert (ROOT / test).is_file(), test


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """The folder every page runs in: the repository's conf/ and the pictures the docs assume."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("reader")
    shutil.copytree(ROOT / "conf", folder / "conf")
    Image.new("RGB", (64, 64), (200, 120, 40)).save(folder / "ref.png")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    mask.save(folder / "mask.png")
    (folder / "inputs").mkdir()
    for index, colour in enumerate([(30, 90, 200), (220, 220, 220)]):
        Image.new("RGB", (64, 64), colour).save(folder / "inputs" / f"in-{index}.png")
    return folder


def reader_env(hub: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(HF_HOME=str(hub), HF_HUB_CACHE=str(hub / "hub"), HF_HUB_OFFLINE="1")
    return env


@pytest.mark.slow
@pytest.mark.timeout(PAGE_TIMEOUT_S + 30)
@pytest.mark.parametrize(
    "page", [pytest.param(p, marks=pytest.mark.machine_wide if machine_wide(p) else ()) for p in PAGES if to_run(p)]
)
def test_page_runs(page: str, reader_folder: Path, tmp_path: Path) -> None:
    blocks = [{**block.__dict__, "where": block.where} for block in to_run(page)]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks), encoding="utf-8")
    session = [sys.executable, str(Path(__file__).with_name("doc_session.py")), str(tmp_path / "blocks.json"),
               str(tmp_path / "results.jsonl")]  # fmt: skip
    driver = subprocess.Popen(session, cwd=reader_folder, env=reader_env(tmp_path / "hf"), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        stdout, _ = driver.communicate(timeout=PAGE_TIMEOUT_S)
    finally:  # whatever happened, nothing the page started (a server, a run) outlives it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    assert driver.returncode == 0, stdout[-5000:]
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    failed = [r for r in results if r["error"]]
    assert not failed, f"{failed[0]['where']} failed:\n{failed[0]['error']}\n{stdout[-3000:]}"
    assert [r["where"] for r in results] == [b["where"] for b in blocks]
    print(", ".join(f"{r['where']} {r['seconds']} s ({r['cpu_s']} s CPU)" for r in results))
