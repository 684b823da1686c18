"""The reliability suites' helpers: real runner processes killed at random moments, the checks every run folder
must pass afterwards, a fast image server on 127.0.0.1, a small tmpfs, and RSS sampling.

(A module of its own, not conftest.py, so that test modules import it by a name no other folder uses.)
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))  # the runner tests' CLI and manifest helpers
from run_helpers import assert_complete, cli, jobs, popen

from abstractvision.outputs.writer import file_sha256

FULL = os.environ.get("RELIABILITY_FULL") == "1"
TINY = ("prompt=a red fox", "width=16", "height=16", "steps=1")
"""The cheapest real tiny-sd job: about 0.1 s here."""


def counts(fast: int, full: int) -> int:
    """``full`` under ``RELIABILITY_FULL=1``, else ``fast``."""
    return full if FULL else fast


# -- the checks --------------------------------------------------------------------------------------------


@dataclass
class CrashStats:
    """What a kill loop did, for the assertions and docs/reliability.md."""

    kills: int = 0
    runs_completed: int = 0
    jobs_checked: int = 0
    kills_before_manifest: int = 0
    kills_with_temp_files: int = 0
    interrupted_jobs: int = 0
    max_attempts: int = 0
    moments: dict[str, int] = field(default_factory=dict)


def check_after_kill(run_dir: Path, done_before: dict[str, tuple[str, float]], kills: int) -> dict[str, Any]:
    """The state a resume starts from: every job done before is still done, untouched (nothing lost, nothing run
    twice), every done job's files match the manifest's SHA-256, and the attempt counts add up. Returns the rows."""
    rows = jobs(run_dir)
    done = {job_id: (row["sha256"], row["finished_at"]) for job_id, row in rows.items() if row["status"] == "done"}
    assert done_before.items() <= done.items(), "a job done before the kill was lost or run again"
    for job_id, row in rows.items():
        assert row["interrupts"] <= kills and row["attempts"] <= kills + 1, row
        if row["status"] == "done":
            assert file_sha256(run_dir / row["output"]) == row["sha256"], f"{job_id}: corrupt output"
            sidecar = json.loads((run_dir / "outputs" / f"{job_id}.json").read_text())
            assert sidecar["files"][0]["sha256"] == row["sha256"]
    return rows


def check_complete(run_dir: Path, total: int, kills: int, redone: int = 0) -> dict[str, Any]:
    """A finished run: every job done once, files exactly those the manifest names (no temp files, nothing extra,
    nothing missing), every SHA-256 right, and each job's attempts one per runner that died under it, plus the
    one that finished it (``redone`` jobs, found damaged, count one more)."""
    assert_complete(run_dir, total)
    rows = jobs(run_dir)
    for row in rows.values():
        assert 1 <= row["attempts"] <= kills + 1 + redone and row["attempts"] >= row["interrupts"] + 1, row
    assert sum(row["attempts"] - row["interrupts"] - 1 for row in rows.values()) == redone
    return rows


def done_count(run_dir: Path) -> int:
    """How many jobs are done (one cheap query: it runs while the runner works, on a small machine)."""
    try:
        with closing(sqlite3.connect(f"file:{run_dir / 'manifest.sqlite'}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM jobs WHERE status = 'done'").fetchone()[0]
    except sqlite3.Error:
        return 0


STARTUP_KILLS = 0.25
"""The share of kills aimed at a runner's start (compose, plan, manifest, model load); the rest land while it works."""


def wait_for_moment(process: subprocess.Popen[str], run_dir: Path, rng: random.Random, window_s: float) -> str:
    """Wait for a random moment of ``process``'s life, drawn from ``rng``: within its first seconds, or within
    ``window_s`` after it finished its first job (when a kill can land mid-write). Returns which."""
    if rng.random() < STARTUP_KILLS:
        moment, delay = "startup", rng.uniform(0, 4.0)
    else:
        moment, delay, done = "working", rng.uniform(0, window_s), done_count(run_dir)
        while process.poll() is None and done_count(run_dir) == done:
            time.sleep(0.1)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    return moment


def kill_loop(
    args: Callable[[str], tuple[str, ...]], cwd: Path, total: int, kills: int, rng: random.Random, window_s: float
) -> CrashStats:
    """``kill -9`` runners of ``args(run_dir)`` at random moments (``wait_for_moment``), ``kills`` times, checking
    the folder after each kill. A runner that finishes before its moment completes its folder (checked whole) and
    the next runner starts a new one. The last folder is then finished and checked."""
    stats, folder, folder_kills, done_before = CrashStats(), 0, 0, {}
    while True:
        run_dir = cwd / f"r{folder}"
        if stats.kills == kills:
            result = cli(*args(run_dir.name), cwd=cwd)
            assert result.returncode == 0, result.stderr[-3000:]
        else:
            process = popen(*args(run_dir.name), cwd=cwd)
            moment = wait_for_moment(process, run_dir, rng, window_s)
            if process.poll() is None:
                process.kill()
                process.communicate()
                stats.kills += 1
                stats.moments[moment] = stats.moments.get(moment, 0) + 1
                folder_kills += 1
                if not (run_dir / "manifest.sqlite").is_file():
                    stats.kills_before_manifest += 1
                    continue
                if list((run_dir / "outputs").glob(".*.tmp")):
                    stats.kills_with_temp_files += 1
                rows = check_after_kill(run_dir, done_before, folder_kills)
                done_before = {j: (r["sha256"], r["finished_at"]) for j, r in rows.items() if r["status"] == "done"}
                continue
            _, stderr = process.communicate()
            assert process.returncode == 0, stderr[-3000:]
        rows = check_complete(run_dir, total, folder_kills)
        stats.runs_completed += 1
        stats.jobs_checked += len(rows)
        stats.interrupted_jobs += sum(1 for row in rows.values() if row["interrupts"])
        stats.max_attempts = max([stats.max_attempts, *(row["attempts"] for row in rows.values())])
        if stats.kills == kills:
            return stats
        folder, folder_kills, done_before = folder + 1, 0, {}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def report(name: str, **numbers: Any) -> None:
    """Print a suite's numbers (``pytest -n 0 -s`` shows them; docs/reliability.md quotes them)."""
    print(f"\n[reliability] {name}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()), file=sys.stderr)


# -- a fast image server -----------------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


class ImageServer:
    """An OpenAI-compatible images route on 127.0.0.1 that answers every request with the same PNG, after
    ``delay_s``; a request whose prompt contains ``slow`` is held a minute (a job to kill the runner under).

    Each answer is one write (headers and body together): two writes would meet the client's delayed ACK and
    cost 40 ms a request. It keeps no record of requests, so it serves 10,000 of them in constant memory.
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        body = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(_png()).decode()}]}).encode()
        self.requests = 0
        """Image requests answered or held (``GET /models`` not counted)."""
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _image_handler(self, body, delay_s))
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a held request must not hold the test's end
        self.httpd.handle_error = lambda request, address: None  # a killed client leaves a broken pipe: expected
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _image_handler(server: ImageServer, body: bytes, delay_s: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server.requests += 1
            server.stopping.wait(60 if b"slow" in request else delay_s)
            self.do_GET()

        def do_GET(self) -> None:  # GET /models: reachable (any JSON will do)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)

    return Handler


def http_args(server: ImageServer, *extra: str) -> tuple[str, ...]:
    return ("backend=openai", f"backend.base_url={server.base_url}", "prompt=a red fox", *extra)


# -- a small filesystem of our own -------------------------------------------------------------------------


class Tmpfs:
    """A tmpfs mounted at ``path`` for one test (``mount`` needs root, or CAP_SYS_ADMIN)."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs")

    def remount(self, options: str) -> None:
        self._mount("-o", f"remount,{options}")

    def _mount(self, *args: str) -> None:
        result = subprocess.run(["mount", *args, str(self.path)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}): the disk-full tests need root")

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


# -- memory ------------------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """The resident set size of process ``pid`` in MiB (from /proc), or ``None`` once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(kb) / 1024 if kb else None
