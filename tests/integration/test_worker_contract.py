"""The worker contract: a group description pickles, and a worker built from it in a separate, spawned
process makes the same bytes as a local run (the way a distributed executor will run it)."""

from __future__ import annotations

import io
import json
import multiprocessing
import pickle
from pathlib import Path

import pytest

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.manifest import Manifest
from abstractvision.pipeline.plan import Plan
from abstractvision.pipeline.runner import Runner
from abstractvision.pipeline.worker import GroupDescription, JobSpec, Worker

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")

OVERRIDES = ["prompt=a red fox", "seed=0,1", "backend.device=cpu", "run.progress=false"]


def generate_in_this_process(description: bytes, job: bytes) -> list[bytes]:
    """What a remote executor does: unpickle, build the worker, call it."""
    worker = Worker(pickle.loads(description))
    try:
        return [asset.data for asset in worker(pickle.loads(job)).assets]
    finally:
        worker.close()


def test_group_description_pickles_without_live_objects() -> None:
    plan = Plan(load_run_config(OVERRIDES))
    (group,) = plan.groups.values()
    again = pickle.loads(pickle.dumps(group))
    assert again == group and isinstance(again, GroupDescription)
    assert again.model.name == "tiny-sd" and again.placement_options["device"] == "cpu"


def test_api_key_stays_out_of_the_description_repr() -> None:
    overrides = ["backend=openai", "backend.base_url=http://127.0.0.1:9/v1", "backend.api_key=sk-secret"]
    (group,) = Plan(load_run_config([*overrides, "prompt=x"])).groups.values()
    assert "sk-secret" not in repr(group) and "sk-secret" not in json.dumps(group.recorded_options())


def test_spawned_worker_gives_the_same_bytes_as_a_local_run(tmp_path: Path, tiny_sd_path: Path) -> None:
    config = load_run_config([*OVERRIDES, f"run.dir={tmp_path / 'r'}"])
    assert Runner(config, out=io.StringIO()).run().done == 2
    manifest = Manifest(tmp_path / "r" / "manifest.sqlite", readonly=True)
    rows = list(manifest.conn.execute("SELECT job_id, group_key, task, params, inputs, interrupts, output FROM jobs"))
    manifest.close()
    (group,) = Plan(config).groups.values()
    here = Worker(group)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        for row in rows:
            job = JobSpec.from_row(row)
            (data,) = pool.apply(generate_in_this_process, (pickle.dumps(group), pickle.dumps(job)))
            assert data == here(job).assets[0].data  # the worker's own file, byte for byte
            written = (tmp_path / "r" / row["output"]).read_bytes()  # the run's file: same pixels, plus the record
            assert _pixels(data) == _pixels(written)
            assert _record(data)["seed"] == _record(written)["seed"]
    here.close()


def _pixels(png: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.tobytes()


def _record(png: bytes) -> dict:
    from abstractvision.media.png import read_png_record

    return read_png_record(png)
