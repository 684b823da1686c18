"""``abstractvision serve`` runs one generation at a time per backend and turns away what does not fit in its
queue (429 + Retry-After). The served backend forwards to a fault server that takes 0.5 s per image, so the
server's own scheduling is what the timings show."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from fault_server import FaultServer, Reply, png_bytes
from server_processes import ServerProcess, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def slow_upstream() -> Iterator[FaultServer]:
    server = FaultServer().start()
    item = {"b64_json": base64.b64encode(png_bytes()).decode()}
    server.script("POST", "/v1/images/generations", Reply(json={"created": 1, "data": [item]}, delay_s=0.5))
    yield server
    server.stop()


def start(upstream: FaultServer, tmp_path, *flags: str) -> Iterator[ServerProcess]:
    options = ["--option", f"base_url={upstream.base_url}", "--option", "max_retries=0"]
    return serve(tmp_path, "--backend", "openai", "--model", "remote-model", *options, *flags)


def fire(base_url: str, count: int) -> list[requests.Response]:
    answers: list[requests.Response] = [None] * count  # type: ignore[list-item]

    def one(i: int) -> None:
        answers[i] = requests.post(f"{base_url}/images/generations", json={"prompt": f"fox {i}"}, timeout=30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_one_generation_at_a_time_and_429_beyond_the_queue(slow_upstream, tmp_path):
    for server in start(slow_upstream, tmp_path, "--max-waiting", "1"):
        answers = fire(server.base_url, 3)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429]
    busy = next(a for a in answers if a.status_code == 429)
    assert busy.headers["Retry-After"] == "1" and busy.json()["error"]["code"] == "server_busy"
    assert len([r for r in slow_upstream.received if r.method == "POST"]) == 2


def test_max_concurrent_lets_a_thread_safe_backend_overlap(slow_upstream, tmp_path):
    for server in start(slow_upstream, tmp_path, "--max-concurrent", "4"):
        started = time.monotonic()
        answers = fire(server.base_url, 4)
        elapsed = time.monotonic() - started
    assert all(a.status_code == 200 for a in answers)
    assert elapsed < 1.5  # serial would take 2 s


def test_max_concurrent_above_one_is_refused_for_local_pipelines(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "abstractvision.cli", "serve", "--port", "0", "--max-concurrent", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "max_concurrent" in result.stderr and "not thread-safe" in result.stderr
