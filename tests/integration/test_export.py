"""``abstractvision export`` on a real tiny-sd run with labels: every format loads back with the library its
users would use (``datasets``, ``pyarrow``, ``webdataset``), every row's parameters and labels intact."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from abstractvision.cli import main
from abstractvision.errors import InvalidParameterError, RunError
from abstractvision.outputs.export import export_run
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.run_dir import RunDir
from abstractvision.pipeline.runner import Runner

PROMPTS = "prompt,label.species,label.split\na red fox,fox,train\na grey wolf,wolf,test\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    """Two labelled prompts x two guidance scales: four real tiny-sd images."""
    folder = tmp_path_factory.mktemp("export-run")
    (folder / "prompts.csv").write_text(PROMPTS)
    overrides = [f"sweep.file={folder / 'prompts.csv'}", "guidance_scale=5,7.5", "steps=2", "seed=3",
                 f"run.dir={folder / 'run'}", "run.progress=false"]  # fmt: skip
    summary = Runner(load_run_config(overrides), out=io.StringIO()).run()
    assert summary.done == 4
    return folder / "run"


def expected_rows(run_dir: Path, **where) -> dict[str, dict]:
    """What the manifest says about each done job, by job id."""
    manifest = RunDir(run_dir).open_readonly()
    try:
        return {r["job_id"]: {**r["params"]["params"], **r["labels"], "seed": r["seed"]}
                for r in manifest.records("done", where)}  # fmt: skip
    finally:
        manifest.close()


def assert_rows_match(rows: list[dict], expected: dict[str, dict]) -> None:
    assert sorted(row["job_id"] for row in rows) == sorted(expected)
    for row in rows:
        assert {k: row[k] for k in expected[row["job_id"]]} == expected[row["job_id"]]


def test_labels_reach_the_manifest_but_not_the_job(run_dir: Path) -> None:
    rows = expected_rows(run_dir)
    assert sorted((r["prompt"], r["species"], r["split"]) for r in rows.values()) == [
        ("a grey wolf", "wolf", "test"), ("a grey wolf", "wolf", "test"),
        ("a red fox", "fox", "train"), ("a red fox", "fox", "train"),
    ]  # fmt: skip
    manifest = RunDir(run_dir).open_readonly()
    try:
        identities = [r["params"] for r in manifest.records("done")]
    finally:
        manifest.close()
    assert all("species" not in json.dumps(identity) for identity in identities)


def test_imagefolder_loads_with_datasets(run_dir: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    args = ["export", str(run_dir), "--format", "imagefolder", "--out", str(tmp_path / "ds"), "--no-progress"]
    assert main(args) == 0
    loaded = datasets.load_dataset("imagefolder", data_dir=str(tmp_path / "ds"), split="train",
                                   cache_dir=str(tmp_path / "hf"))  # fmt: skip
    assert len(loaded) == 4 and loaded[0]["image"].size == (64, 64)
    assert_rows_match([{k: v for k, v in row.items() if k != "image"} for row in loaded], expected_rows(run_dir))


def test_parquet_is_sharded_and_loads_with_pyarrow_and_datasets(run_dir: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    datasets = pytest.importorskip("datasets")
    export_run(run_dir, "parquet", tmp_path / "pq", shard_size=3, progress=False)
    shards = sorted((tmp_path / "pq").glob("*.parquet"))
    assert [p.name for p in shards] == ["data-00000.parquet", "data-00001.parquet"]
    assert [pq.read_metadata(p).num_rows for p in shards] == [3, 1]
    table = pq.read_table(tmp_path / "pq")
    assert table.schema.field("guidance_scale").type == "double" and table.schema.field("seed").type == "int64"
    loaded = datasets.load_dataset("parquet", data_dir=str(tmp_path / "pq"), split="train",
                                   cache_dir=str(tmp_path / "hf"))  # fmt: skip
    assert isinstance(loaded.features["image"], datasets.Image) and loaded[0]["image"].size == (64, 64)
    assert_rows_match([{k: v for k, v in row.items() if k != "image"} for row in loaded], expected_rows(run_dir))


def test_webdataset_shards_stream_with_the_webdataset_library(run_dir: Path, tmp_path: Path) -> None:
    wds = pytest.importorskip("webdataset")
    export_run(run_dir, "webdataset", tmp_path / "wds", shard_size=3, progress=False)
    shards = sorted(str(p) for p in (tmp_path / "wds").glob("shard-*.tar"))
    assert len(shards) == 2
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode("pil"))
    assert [s["png"].size for s in samples] == [(64, 64)] * 4
    assert all(s["__key__"] == s["json"]["job_id"] for s in samples)
    assert_rows_match([s["json"] for s in samples], expected_rows(run_dir))
    # Same selection, same bytes: the members carry no times or owners of this machine.
    export_run(run_dir, "webdataset", tmp_path / "again", shard_size=3, progress=False)
    assert (tmp_path / "wds/shard-00000.tar").read_bytes() == (tmp_path / "again/shard-00000.tar").read_bytes()
    with tarfile.open(shards[0]) as tar:
        assert all(member.mtime == 0 for member in tar.getmembers())


def test_captions_sit_beside_their_images(run_dir: Path, tmp_path: Path) -> None:
    export_run(run_dir, "captions", tmp_path / "cap", progress=False)
    expected = expected_rows(run_dir)
    assert sorted(p.name for p in (tmp_path / "cap").iterdir()) == sorted(
        [f"{job_id}.png" for job_id in expected] + [f"{job_id}.txt" for job_id in expected]
    )
    for job_id, row in expected.items():
        assert (tmp_path / "cap" / f"{job_id}.txt").read_text() == row["prompt"]
        png = (tmp_path / "cap" / f"{job_id}.png").read_bytes()
        assert png == (run_dir / "outputs" / f"{job_id}.png").read_bytes()


def test_filters_by_parameter_label_and_seed(run_dir: Path, tmp_path: Path) -> None:
    summary = export_run(run_dir, "captions", tmp_path / "a", where={"guidance_scale": 7.5}, progress=False)
    assert summary.jobs == 2
    assert {p.read_text() for p in (tmp_path / "a").glob("*.txt")} == {"a red fox", "a grey wolf"}
    summary = export_run(run_dir, "captions", tmp_path / "b", where={"species": "wolf", "guidance_scale": 5},
                         progress=False)  # fmt: skip
    assert summary.jobs == 1 and {p.read_text() for p in (tmp_path / "b").glob("*.txt")} == {"a grey wolf"}
    assert export_run(run_dir, "captions", tmp_path / "c", where={"seed": 3}, progress=False).jobs == 4


def test_bad_input_fails_before_anything_is_written(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidParameterError, match=r"'cfg' is not a field of this run; its fields are \[.*'guidance"
                       r"_scale'.*'species'"):  # fmt: skip
        export_run(run_dir, "imagefolder", out, where={"cfg": 7})
    with pytest.raises(InvalidParameterError, match=r"selects no jobs \(4 are 'done'.* loosen the filter"):
        export_run(run_dir, "imagefolder", out, where={"guidance_scale": 9})
    with pytest.raises(InvalidParameterError, match="unknown format 'zip'"):
        export_run(run_dir, "zip", out)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main(["export", str(tmp_path / "nothing"), "--format", "parquet", "--out", str(out)]) == 2
    assert "is not a run folder" in capsys.readouterr().err

    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InvalidParameterError, match=r"`--out`: .* is not empty; pick another folder or pass --ov"):
        export_run(run_dir, "captions", out)
    export_run(run_dir, "captions", out, overwrite=True, progress=False)
    assert not (out / "keep.txt").exists() and len(list(out.glob("*.png"))) == 4


def test_an_altered_output_stops_the_export_and_leaves_nothing(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    import shutil

    shutil.copytree(run_dir, copy)
    victim = next((copy / "outputs").glob("*.png"))
    victim.write_bytes(victim.read_bytes() + b"tampered")
    with pytest.raises(RunError, match=f"output .*{victim.name} of job .* does not match the SHA-256"):
        export_run(copy, "parquet", tmp_path / "pq", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
