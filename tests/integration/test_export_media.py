"""``abstractvision export`` of real tiny videos (Wan, MP4) and view sets (tiny-sd): every format loads back
with the library its users would use. A video is one row, its file (its frame PNGs are left out); a view set
is one row per view, labelled in the ``view`` column (its contact sheet is left out)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from run_helpers import make_run

from abstractvision.errors import InvalidParameterError
from abstractvision.outputs.export import export_run
from abstractvision.pipeline.run_dir import RunDir

datasets = pytest.importorskip("datasets")
pq = pytest.importorskip("pyarrow.parquet")
wds = pytest.importorskip("webdataset")
VIEWS = ["front", "az22.5_el0"]


def done(run_dir: Path) -> dict[str, dict]:
    manifest = RunDir(run_dir).open_readonly()
    try:
        return {r["job_id"]: r for r in manifest.records("done")}
    finally:
        manifest.close()


def export_all(run_dir: Path, out: Path) -> dict[str, Path]:
    formats = ("imagefolder", "parquet", "webdataset", "captions")
    return {f: export_run(run_dir, f, out / f, progress=False).out for f in formats}


@pytest.mark.slow
def test_videos_export_as_their_files_in_every_format(video_run: Path, tmp_path: Path) -> None:
    jobs = done(video_run)
    stored = {job_id: (video_run / r["output"]).read_bytes() for job_id, r in jobs.items()}
    out = export_all(video_run, tmp_path)

    folder = datasets.load_dataset("videofolder", data_dir=str(out["imagefolder"]), split="train",
                                   cache_dir=str(tmp_path / "hf"))  # fmt: skip
    folder = folder.cast_column("video", datasets.Video(decode=False))  # decoding needs torchcodec
    assert sorted(p.name for p in (out["imagefolder"] / "videos").iterdir()) == sorted(f"{j}.mp4" for j in jobs)
    table = pq.read_table(out["parquet"])
    assert table.column_names[0] == "video" and table.num_rows == 2
    for rows in (folder, table.to_pylist()):
        for row in rows:
            assert (row["seed"], row["num_frames"], row["prompt"]) == (jobs[row["job_id"]]["seed"], 5, "a red fox")
            video = row["video"]["bytes"] or Path(row["video"]["path"]).read_bytes()
            assert video == stored[row["job_id"]]

    samples = list(wds.WebDataset(sorted(map(str, out["webdataset"].glob("*.tar"))), shardshuffle=False).decode())
    assert {s["__key__"]: s["mp4"] for s in samples} == stored
    assert all(s["json"]["num_frames"] == 5 and "png" not in s for s in samples)

    names = sorted(p.name for p in out["captions"].iterdir())
    assert names == sorted(f"{j}{e}" for j in jobs for e in (".mp4", ".txt"))
    assert all((out["captions"] / f"{j}.mp4").read_bytes() == stored[j] for j in jobs)


@pytest.mark.slow
def test_a_view_set_is_one_row_per_view_in_every_format(view_run: Path, tmp_path: Path) -> None:
    jobs = done(view_run)
    expected = sorted((j, v) for j in jobs for v in VIEWS)
    out = export_all(view_run, tmp_path)

    folder = datasets.load_dataset("imagefolder", data_dir=str(out["imagefolder"]), split="train",
                                   cache_dir=str(tmp_path / "hf"))  # fmt: skip
    parquet = datasets.load_dataset("parquet", data_dir=str(out["parquet"]), split="train",
                                    cache_dir=str(tmp_path / "hf"))  # fmt: skip
    for rows in (folder, parquet):
        assert sorted((row["job_id"], row["view"]) for row in rows) == expected
        for row in rows:
            assert row["image"].size == (64, 64) and row["seed"] == jobs[row["job_id"]]["seed"]
            assert json.loads(row["angles"]) == ["front", {"azimuth": 22.5, "elevation": 0}]
            assert row["input_image"].startswith("sha256:")  # the reference image, beside the exported one

    samples = list(wds.WebDataset(sorted(map(str, out["webdataset"].glob("*.tar"))), shardshuffle=False).decode())
    assert sorted((s["json"]["job_id"], s["json"]["view"]) for s in samples) == expected
    assert sorted(s["__key__"] for s in samples) == sorted(f"{j}-{v.replace('.', '_')}" for j, v in expected)

    names = sorted(p.name for p in out["captions"].iterdir())
    assert names == sorted(f"{j}-{v}{e}" for j, v in expected for e in (".png", ".txt"))
    for job_id, view in expected:
        exported = (out["captions"] / f"{job_id}-{view}.png").read_bytes()
        assert exported == (view_run / "outputs" / f"{job_id}-{view}.png").read_bytes()


@pytest.mark.slow
def test_images_and_videos_together_go_only_to_formats_that_hold_both(
    view_run: Path, video_run: Path, tmp_path: Path
) -> None:
    shutil.copytree(view_run, tmp_path / "run")
    make_run(tmp_path, "model=tiny-wan-t2v", "task=text_to_video", "num_frames=5", "steps=2", "seed=0")
    for format in ("imagefolder", "parquet"):
        with pytest.raises(InvalidParameterError, match=f"selects both images and videos, and a {format} export"):
            export_run(tmp_path / "run", format, tmp_path / format, progress=False)
        assert not (tmp_path / format).exists()
    assert export_run(tmp_path / "run", "imagefolder", tmp_path / "views", where={"task": "multi_view_image"},
                      progress=False).files == 4  # fmt: skip
    assert export_run(tmp_path / "run", "webdataset", tmp_path / "both", progress=False).files == 5
