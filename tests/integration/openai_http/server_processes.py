"""Server processes for the HTTP tests: start one, wait for the address it prints, stop it.

(A module of its own, not conftest.py, so that test modules import it by a name no other folder uses.)
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
START_TIMEOUT_S = 120


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    base_url: str
    api_key: str | None


def start_process(args: list[str], log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``args``, wait for its ``http://...`` line on stdout, and return it with the process."""
    # One torch thread: on a small shared machine, spinning threads cost more than they give.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("w") as stderr:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=HERE, env=env)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # the process closed its output: it exited

    threading.Thread(target=read, daemon=True).start()
    try:
        while (line := lines.get(timeout=START_TIMEOUT_S)) is not None:
            if "http://" in line:
                return process, line[line.index("http://") :].split()[0]
    except queue.Empty:
        pass
    process.kill()
    raise RuntimeError(f"{args} did not start: {log.read_text()[-2000:]}")


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
