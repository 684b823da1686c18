"""Small CLI behaviours through the real CLI: a closed pipe is quiet, a busy port is refused before loading."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    cli = f"{sys.executable} -m abstractvision.cli run --cfg job 'seed=range(0,3)' 'model=tiny-sd,tiny-sd-alt'"
    result = subprocess.run(f"{cli} | head -1", shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_serve_refuses_a_busy_port_before_loading_a_model(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        start = time.perf_counter()
        command = [sys.executable, "-m", "abstractvision.cli", "serve", "--model", "tiny-sd-alt", "--port", str(port)]
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"error: `--port`: cannot listen on 127.0.0.1:{port} (Address already in use" in result.stderr
    assert time.perf_counter() - start < 30


def test_an_unknown_model_lists_the_known_ones_with_a_did_you_mean(tmp_path: Path) -> None:
    for command in (["generate", "a fox", "--model", "tiny-sdd", "--out", "x.png"], ["serve", "--model", "tiny-sdd"]):
        result = subprocess.run(
            [sys.executable, "-m", "abstractvision.cli", *command, *(["--port", "0"] if command[0] == "serve" else [])],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "error: unknown model 'tiny-sdd'; did you mean 'tiny-sd'? known models are [" in result.stderr
        assert "hf download" not in result.stderr
