"""The project's own tiny models: deterministic, cached, built atomically, real tokenizer."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install 'abstractvision[diffusers]'")

from abstractvision.builtin import tiny_sd as tiny_models
from abstractvision.builtin.atomic_build import MARKER_FILE
from abstractvision.builtin.tiny_sd import (
    BUILDER_VERSION,
    build_tiny_sd,
    builtin_model_path,
    ensure_builtin_model,
)
from abstractvision.errors import ModelNotFoundError

BUILD_SCRIPT = "from abstractvision.builtin import ensure_builtin; print(ensure_builtin('tiny-sd'))"


def weight_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.safetensors"))
    }


def test_two_builds_have_identical_weights(tmp_path: Path) -> None:
    first = weight_hashes(build_tiny_sd(tmp_path / "a", seed=0))
    second = weight_hashes(build_tiny_sd(tmp_path / "b", seed=0))
    assert set(first) == {
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
    }
    assert first == second


def test_other_seed_gives_other_weights(tiny_sd_path: Path) -> None:
    alt = ensure_builtin_model("tiny-sd-alt")
    assert alt.name == f"tiny-sd-alt-v{BUILDER_VERSION}"
    ours, theirs = weight_hashes(tiny_sd_path), weight_hashes(alt)
    assert all(ours[name] != theirs[name] for name in ours)


def test_build_is_small_and_cached_under_versioned_name(tiny_sd_path: Path, abstractvision_cache: Path) -> None:
    assert tiny_sd_path == abstractvision_cache / "models" / f"tiny-sd-v{BUILDER_VERSION}"
    size = sum(p.stat().st_size for p in tiny_sd_path.rglob("*") if p.is_file())
    assert 2_000_000 < size < 12_000_000
    marker = json.loads((tiny_sd_path / MARKER_FILE).read_text())
    assert marker == {"builder_version": BUILDER_VERSION, "name": "tiny-sd", "seed": 0}
    assert json.loads((tiny_sd_path / "model_index.json").read_text())["_class_name"] == "StableDiffusionPipeline"


def test_cached_model_is_reused_not_rebuilt(tiny_sd_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = weight_hashes(tiny_sd_path)
    mtime = (tiny_sd_path / MARKER_FILE).stat().st_mtime_ns

    def fail_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached model must not be rebuilt")

    monkeypatch.setattr(tiny_models, "build_tiny_sd", fail_build)
    assert ensure_builtin_model("tiny-sd") == tiny_sd_path
    assert (tiny_sd_path / MARKER_FILE).stat().st_mtime_ns == mtime
    assert weight_hashes(tiny_sd_path) == before


def test_cache_root_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABSTRACTVISION_CACHE", str(tmp_path / "cache"))
    assert builtin_model_path("tiny-sd") == tmp_path / "cache" / "models" / f"tiny-sd-v{BUILDER_VERSION}"
    monkeypatch.delenv("ABSTRACTVISION_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tiny_models.cache_root() == tmp_path / "xdg" / "abstractvision"


def test_unknown_builtin_model_names_the_valid_ones() -> None:
    with pytest.raises(ModelNotFoundError, match=r"unknown built-in model 'tiny-xl'.*\['tiny-sd', 'tiny-sd-alt'\]"):
        ensure_builtin_model("tiny-xl")


def test_tokenizer_maps_prompt_words_to_real_tokens(tiny_sd_path: Path) -> None:
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tiny_sd_path / "tokenizer")
    ids = tokenizer("a red fox in the forest").input_ids
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    words = ids[1:-1]
    assert len(words) == 6  # one token per known word
    assert tokenizer.eos_token_id not in words and len(set(words)) == 6
    assert tokenizer.model_max_length == 77
    assert len(tokenizer) < 1000  # fits the text encoder's vocabulary


@pytest.mark.slow
def test_concurrent_builders_leave_one_complete_folder(tmp_path: Path) -> None:
    env = {**os.environ, "ABSTRACTVISION_CACHE": str(tmp_path)}
    builders = [
        subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=240)[0].strip() for proc in builders]
    assert [proc.returncode for proc in builders] == [0, 0]
    target = tmp_path / "models" / f"tiny-sd-v{BUILDER_VERSION}"
    assert outputs == [str(target)] * 2
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [target.name]  # no temp folders left
    assert (target / MARKER_FILE).is_file()


@pytest.mark.slow
def test_killed_build_leaves_no_model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "ABSTRACTVISION_CACHE": str(tmp_path)}
    models = tmp_path / "models"
    proc = subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(models.glob(".tmp-*/*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode == 0:
        pytest.fail("the build finished before it could be killed; this test needs it interrupted")
    target = models / f"tiny-sd-v{BUILDER_VERSION}"
    assert not target.exists()
    monkeypatch.setenv("ABSTRACTVISION_CACHE", str(tmp_path))
    assert ensure_builtin_model("tiny-sd") == target
    assert (target / MARKER_FILE).is_file()


@pytest.mark.parametrize(
    ("name", "weights"),
    [("tiny-wan-t2v", 3), ("tiny-ltx-video", 3), ("tiny-cogvideox-i2v", 3), ("tiny-animatediff", 4)],
)
def test_the_tiny_video_models_build_deterministically(tmp_path: Path, name: str, weights: int) -> None:
    """Two builds of each tiny video model hold the same weights (same torch version); AnimateDiff's four are
    tiny-sd's three and its motion adapter."""
    from abstractvision.builtin import BUILTINS

    builtin = BUILTINS[name]
    build = functools.partial(builtin.build, seed=builtin.seed)

    def digests(folder: Path) -> dict[str, str]:
        build(folder)
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.safetensors"))
        }

    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second and len(first) == weights
