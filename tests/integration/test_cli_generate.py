"""``abstractvision generate``: one picture from the command line, on the real tiny-sd model."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image

from abstractvision.cli import main
from abstractvision.media.png import read_png_record

pytestmark = pytest.mark.usefixtures("tiny_sd_path")


def test_generate_writes_a_png_that_records_its_recipe(tmp_path, capsys):
    out = tmp_path / "fox.png"
    assert main(["generate", "a red fox", "--out", str(out), "--seed", "3", "--steps", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    record = read_png_record(out.read_bytes())
    assert record["seed"] == 3
    assert record["model"] == "tiny-sd"
    assert record["params"]["prompt"] == "a red fox"
    assert record["params"]["steps"] == 2


@pytest.mark.slow
def test_same_command_same_bytes_in_fresh_processes(tmp_path):
    outputs = []
    for name in ("a.png", "b.png"):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "abstractvision.cli", "generate", "a red fox", "--out", str(out), "--seed", "11"],
            check=True,
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_image_and_mask_switch_to_image_to_image_and_inpainting(tmp_path):
    source = tmp_path / "source.png"
    Image.new("RGB", (64, 64), "blue").save(source)
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    for extra, expected_task in (([], "image_to_image"), (["--mask", str(mask)], "image_to_image")):
        out = tmp_path / f"edit{len(extra)}.png"
        args = ["generate", "a red fox", "--image", str(source), "--strength", "0.5", "--out", str(out), *extra]
        assert main(args) == 0
        record = read_png_record(out.read_bytes())
        assert record["task"] == expected_task
        assert record["params"]["strength"] == 0.5
        assert Image.open(io.BytesIO(out.read_bytes())).size == (64, 64)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width", "65"], "`width`: must be a positive multiple of 8, got 65; use 64 or 72"),
        (["--steps", "0"], "`steps`: must be an integer >= 1, got 0"),
        (["--mask", "m.png"], "`--mask`: needs --image"),
        (["--image", "missing.png"], "`--image`: cannot read 'missing.png'"),
        (["--model", "nope/not-cached", "--option", "allow_download=false"], "nope/not-cached"),
        (["--backend", "magic"], "`backend`: unknown backend 'magic'; valid backends are"),
        (["--option", "colour=red"], "`backend.colour`: not an option of the diffusers backend"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_field(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "a red fox", "--out", "out.png", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()
