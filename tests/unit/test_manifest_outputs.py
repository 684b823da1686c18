"""What a job leaves on disk next to its manifest row: PNG text chunks added without re-encoding, sidecars."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from abstractvision.media.png import encode_png, read_png_record, read_png_text
from abstractvision.media.png_chunks import set_png_text
from abstractvision.outputs.writer import outputs_intact, write_job_outputs
from abstractvision.types import GeneratedAsset

METADATA = {
    "backend": "diffusers",
    "model": "tiny-sd",
    "seed": 3,
    "scheduler": "DDIMScheduler",
    "params": {"prompt": "a red fox", "negative_prompt": "blurry", "steps": 4, "guidance_scale": 7.5,
               "width": 8, "height": 8},
    "timings": {"load_s": 1.0, "generate_s": 0.5},
}  # fmt: skip


def png() -> bytes:
    return encode_png(Image.new("RGB", (8, 8), "red"), METADATA)


def test_set_png_text_replaces_and_adds_chunks_keeping_pixels() -> None:
    data = set_png_text(png(), {"abstractvision": '{"job_id": "x"}', "comment": "ünïcode ✓"})
    text = read_png_text(data)
    assert text["abstractvision"] == '{"job_id": "x"}'
    assert text["comment"] == "ünïcode ✓"
    assert text["parameters"].startswith("a red fox")
    assert list(text).count("abstractvision") == 1
    with Image.open(io.BytesIO(data)) as image:
        assert image.getpixel((0, 0)) == (255, 0, 0)


def test_set_png_text_refuses_non_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        set_png_text(b"GIF89a", {})


def test_outputs_are_named_by_job_id_with_record_and_sidecar(tmp_path) -> None:
    identity = {"backend": "diffusers", "model": "tiny-sd", "params": {"prompt": "a red fox"}, "seed": 3}
    asset = GeneratedAsset("image", png(), "image/png", METADATA)
    written = write_job_outputs(
        tmp_path, tmp_path / "outputs", "abc", identity, [asset], {"inputs": {"image": "/x.png"}}
    )
    assert written.output == "outputs/abc.png"
    data = (tmp_path / written.output).read_bytes()
    record = read_png_record(data)
    assert record["job_id"] == "abc" and record["job"] == identity and "timings" not in record
    assert "Seed: 3" in read_png_text(data)["parameters"]
    assert "Negative prompt: blurry" in read_png_text(data)["parameters"]
    sidecar = json.loads((tmp_path / "outputs" / "abc.json").read_text())
    assert sidecar["timings"] == {"load_s": 1.0, "generate_s": 0.5}
    assert sidecar["inputs"] == {"image": "/x.png"}
    assert sidecar["files"] == [{"path": "outputs/abc.png", "sha256": written.sha256, "mime": "image/png"}]
    again = write_job_outputs(tmp_path, tmp_path / "outputs", "abc", identity, [asset])
    assert again.sha256 == written.sha256  # the same job gives the same bytes
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["abc.json", "abc.png"]


def test_several_assets_get_numbered_files(tmp_path) -> None:
    assets = [GeneratedAsset("image", png(), "image/png", METADATA) for _ in range(3)]
    write_job_outputs(tmp_path, tmp_path / "outputs", "abc", {}, assets)
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["abc-1.png", "abc-2.png", "abc.json", "abc.png"]


def test_outputs_intact_checks_every_file_the_sidecar_lists(tmp_path) -> None:
    assets = [GeneratedAsset("image", png(), "image/png", METADATA) for _ in range(3)]
    written = write_job_outputs(tmp_path, tmp_path / "outputs", "abc", {}, assets)

    def intact(full: bool, sha256: str | None = written.sha256) -> bool:
        return outputs_intact(tmp_path, "abc", written.output, sha256, full=full)

    assert intact(full=True) and intact(full=False)
    assert not intact(full=True, sha256="0" * 64)  # the main file against the manifest's SHA-256
    assert not intact(full=True, sha256=None)
    (tmp_path / "outputs" / "abc-2.png").write_bytes(b"changed")
    assert intact(full=False) and not intact(full=True)  # only the full check reads a listed file
    (tmp_path / "outputs" / "abc-2.png").unlink()
    assert not intact(full=False)
    sidecar = json.loads((tmp_path / "outputs" / "abc.json").read_text())
    sidecar["files"][2]["sha256"] = None  # a listed file without a digest, and missing: never intact
    (tmp_path / "outputs" / "abc.json").write_text(json.dumps(sidecar))
    assert not intact(full=True)
    (tmp_path / "outputs" / "abc.json").write_text("{")
    assert not intact(full=False)
