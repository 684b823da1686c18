"""Real servers on 127.0.0.1 with random ports, started and stopped by fixtures."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator

import pytest
from fault_server import FaultServer
from server_processes import HERE, ServerProcess, serve, start_process, stop_process


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
