"""Real servers on 127.0.0.1 with random ports, started and stopped by fixtures."""

from __future__ import annotations

import os
import queue
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fault_server import FaultServer

HERE = Path(__file__).parent
START_TIMEOUT_S = 120


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    base_url: str
    api_key: str | None


def start_process(args: list[str], log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``args``, wait for its ``http://...`` line on stdout, and return it with the process."""
    stderr = log.open("w")
    # One torch thread: on a small shared machine, spinning threads cost more than they give.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=HERE, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=START_TIMEOUT_S)
            if "http://" in line:
                return process, line[line.index("http://") :].split()[0]
    except queue.Empty:
        process.kill()
        raise RuntimeError(f"{args} did not start: {log.read_text()[-2000:]}") from None


def stop_process(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(tmp: Path, *extra: str, api_key: str | None = None) -> Iterator[ServerProcess]:
    args = [sys.executable, "-m", "abstractvision.cli", "serve", "--port", "0", *extra]
    if api_key:
        args += ["--api-key", api_key]
    process, url = start_process(args, tmp / "serve.log")
    try:
        yield ServerProcess(process, url, api_key)
    finally:
        stop_process(process)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_sd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``abstractvision serve`` running tiny-sd in a subprocess, with an API key."""
    key = f"sk-test-{secrets.token_hex(8)}"
    yield from serve(tmp_path_factory.mktemp("serve"), "--max-upload-mb", "2", api_key=key)


@pytest.fixture(scope="session")
def video_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fault server's video routes, in a process of its own: its /v1 URL."""
    process, url = start_process(
        [sys.executable, str(HERE / "fault_server.py")], tmp_path_factory.mktemp("peer") / "log"
    )
    try:
        yield url
    finally:
        stop_process(process)
