"""Benchmark of HTTP sweeps (not a test): ``run.concurrency=4`` vs serial against a server that takes a fixed time
per request (target: >= 3x). Prints the ratio measured side by side in one run.

The server is a stdlib threaded HTTP server on 127.0.0.1 that waits ``--latency-ms`` and answers a small PNG,
standing in for a remote GPU server; the runner drives the ``openai`` backend against it, so the numbers
include composing the config, planning, the manifest, and writing every output.

    python bench/bench_http_concurrency.py [--jobs 24] [--latency-ms 200] [--concurrency 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner


def slow_server(latency_s: float) -> ThreadingHTTPServer:
    """A server answering every POST with one PNG after ``latency_s``, many requests at a time."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    answer = json.dumps({"created": 0, "data": [{"b64_json": base64.b64encode(buffer.getvalue()).decode()}]})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency_s)
            body = answer.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sweep_seconds(base_url: str, jobs: int, concurrency: int, run_dir: Path) -> float:
    overrides = [
        "backend=openai",
        f"backend.base_url={base_url}",
        "model=tiny-sd",
        "prompt=a red fox",
        f"seed=range(0,{jobs})",
        f"run.concurrency={concurrency}",
        f"run.dir={run_dir}",
        "run.progress=false",
    ]
    summary = Runner(load_run_config(overrides), out=io.StringIO()).run()
    assert summary.done == jobs and summary.failed == 0, summary
    return summary.elapsed_s


def interleaved(jobs: int, latency_s: float, concurrency: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds of the serial and of the concurrent sweep, ``rounds`` times each, interleaved, against one server."""
    server = slow_server(latency_s)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    serial, parallel = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sweep_seconds(base_url, 2, 1, Path(tmp) / "warmup")  # imports and first compose, outside the timings
            for attempt in range(rounds):
                serial.append(sweep_seconds(base_url, jobs, 1, Path(tmp) / f"serial{attempt}"))
                parallel.append(sweep_seconds(base_url, jobs, concurrency, Path(tmp) / f"parallel{attempt}"))
    finally:
        server.shutdown()
    return serial, parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    serial_runs, parallel_runs = interleaved(args.jobs, args.latency_ms / 1000, args.concurrency, args.rounds)
    serial, parallel = statistics.median(serial_runs), statistics.median(parallel_runs)
    floor = args.jobs * args.latency_ms / 1000
    print(
        f"{args.jobs} jobs, {args.latency_ms:.0f} ms per request (serial floor {floor:.1f} s), medians of {args.rounds}"
    )
    print(f"  serial        : {serial:6.2f} s  ({args.jobs / serial:5.1f} jobs/s)")
    print(f"  concurrency {args.concurrency} : {parallel:6.2f} s  ({args.jobs / parallel:5.1f} jobs/s)")
    print(f"  speed-up      : {serial / parallel:.2f}x (target >= 3x)")


if __name__ == "__main__":
    main()
