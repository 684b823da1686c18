"""The Ray executor on the openai backend against a real server on 127.0.0.1: each worker is a threaded actor
that has ``run.concurrency`` requests in flight, and no more."""

from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fault_server import FaultServer, Received, Reply, png_bytes


class Timeline:
    """When each request came and how long the server held it: the most it held at once."""

    def __init__(self, server: FaultServer) -> None:
        self.spans: list[tuple[float, float]] = []
        self._reply_for, self._lock = server.reply_for, threading.Lock()
        server.reply_for = self.reply_for  # type: ignore[method-assign]

    def reply_for(self, received: Received) -> Reply:
        reply = self._reply_for(received)
        with self._lock:
            now = time.monotonic()
            self.spans.append((now, now + reply.delay_s))
        return reply

    def peak(self) -> int:
        return max(sum(start <= at < end for start, end in self.spans) for at, _ in self.spans)


@pytest.mark.slow
@pytest.mark.machine_wide
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra")
def test_each_ray_worker_serves_run_concurrency_requests_at_once(fault_server: FaultServer, tmp_path: Path) -> None:
    item = {"b64_json": base64.b64encode(png_bytes()).decode()}
    fault_server.script("POST", "/v1/images/generations", Reply(json={"data": [item]}, delay_s=1.0))
    timeline = Timeline(fault_server)
    args = [
        sys.executable, "-m", "abstractvision.cli", "run", "backend=openai",
        f"backend.base_url={fault_server.base_url}", "prompt=fox", "seed=range(0,12)", f"run.dir={tmp_path / 'r'}",
        "run.progress=false", "run.executor=ray", "run.workers=2", "run.cpus_per_worker=0.5", "run.concurrency=3",
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "12 jobs: 12 done now" in result.stdout
    assert timeline.peak() == 6  # 2 workers x 3 requests; the one more queued on each waits in the actor
