"""The built-in server (``abstractvision serve`` on tiny-sd, in its own process) against hostile clients and
under load: it asks every ``/v1`` route for the key, refuses bodies over its limit however they are sent,
keeps generated files in memory only (it writes nothing anywhere), and under 50 concurrent clients answers or
refuses (429) every request with bounded memory.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from bad_inputs import ServerProcess, png_bytes, png_declaring, serve, snapshot

pytestmark = pytest.mark.slow

KEY = "sk-serve-secret-5c1d"
MAX_WAITING = 8
CLIENTS = 50
LOAD_S = 10.0
CLIENT_TIMEOUT_S = 30.0


@dataclass
class Served:
    server: ServerProcess
    folders: list[Path]
    before: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.server.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, abstractvision_cache: Path) -> Iterator[Served]:
    """tiny-sd served with a key, 1 MB uploads and 8 waiting requests; the folders it could write to."""
    tmp = tmp_path_factory.mktemp("serve-tiny")
    for server in serve(tmp, "--max-upload-mb", "1", "--max-waiting", str(MAX_WAITING), api_key=KEY):
        from server_processes import HERE

        state = Served(server, [HERE, tmp, abstractvision_cache])
        state.before = [snapshot(folder) for folder in state.folders]
        yield state


def auth(key: str | None = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def test_every_route_asks_for_the_key(served: Served) -> None:
    image = {"image": ("in.png", png_bytes(size=64), "image/png")}
    calls = [
        ("GET", "/models", {}),
        ("POST", "/images/generations", {"json": {"prompt": "a"}}),
        ("POST", "/images/edits", {"files": image, "data": {"prompt": "a"}}),
        ("POST", "/images/views", {"json": {"prompt": "a"}}),
    ]
    for method, path, send in calls:
        for headers in ({}, auth("sk-wrong"), auth(KEY + "x"), {"Authorization": KEY}, {"X-Api-Key": KEY}):
            answer = requests.request(method, served.url(path), headers=headers, timeout=30, **send)
            assert answer.status_code == 401, (path, headers, answer.text)
            assert answer.json()["error"]["code"] == "invalid_api_key" and KEY not in answer.text


def test_bodies_over_the_limit_are_refused_however_they_come(served: Served) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts while it reads
        for _ in range(40):
            yield b"x" * 65536

    declared = requests.post(served.url("/images/generations"), headers=auth(), data=b"x" * (2 << 20), timeout=30)
    streamed = requests.post(served.url("/images/generations"), headers=auth(), data=chunks(), timeout=30)
    for answer in (declared, streamed):
        assert answer.status_code == 413 and "larger than the server's limit" in answer.text
    bomb = {"image": ("bomb.png", png_declaring(8193, 8193), "image/png")}
    answer = requests.post(served.url("/images/edits"), headers=auth(), files=bomb, data={"prompt": "a"}, timeout=30)
    assert answer.status_code == 400 and "declares 8193x8193" in answer.json()["error"]["message"]


def test_files_are_served_from_memory_by_unguessable_names_only(served: Served) -> None:
    answer = requests.post(
        served.url("/images/generations"),
        headers=auth(),
        json={"prompt": "a fox", "response_format": "url", "steps": 1, "seed": 3},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["data"][0]["url"]
    assert requests.get(url, timeout=30).content.startswith(b"\x89PNG")
    base = served.server.base_url.removesuffix("/v1")
    for probe in ("/v1/files/..%2F..%2Fetc%2Fpasswd", "/v1/files/../../etc/passwd", "/v1/files/serve.log"):
        assert requests.get(base + probe, timeout=30).status_code == 404, probe


def test_fifty_clients_are_answered_or_refused_and_memory_stays_bounded(served: Served) -> None:
    """50 clients for 10 s, each sending a generation as soon as its previous one is answered (or, after a
    429, once its ``Retry-After`` has passed). No request may go unanswered within the client timeout."""
    warm = requests.post(served.url("/images/generations"), headers=auth(), json={"prompt": "warm"}, timeout=60)
    assert warm.status_code == 200
    baseline = served.rss_mb()
    deadline = time.monotonic() + LOAD_S
    latencies: list[float] = []
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        session = requests.Session()
        request = 0
        while time.monotonic() < deadline:
            request += 1
            started = time.monotonic()
            try:
                answer = session.post(
                    served.url("/images/generations"),
                    headers=auth(),
                    json={"prompt": f"client {number}", "seed": request, "steps": 1},
                    timeout=CLIENT_TIMEOUT_S,
                )
            except requests.RequestException as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    latencies.append(time.monotonic() - started)
            if answer.status_code == 429:
                time.sleep(float(answer.headers["Retry-After"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    peak, health = baseline, []
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, served.rss_mb())
        started = time.monotonic()
        assert requests.get(served.url("").removesuffix("/v1") + "/health", timeout=10).status_code == 200
        health.append(time.monotonic() - started)
        time.sleep(0.5)
    for thread in threads:
        thread.join()
    answered, refused = statuses.count(200), statuses.count(429)
    print(
        f"\nload: {CLIENTS} clients, {LOAD_S:.0f} s: {answered} answered, {refused} refused (429), "
        f"{len(failures)} unanswered; latency p50 {statistics.median(latencies):.2f} s, "
        f"max {max(latencies):.2f} s; /health max {max(health):.2f} s; "
        f"server RSS {baseline:.0f} MB -> peak {peak:.0f} MB"
    )
    assert failures == []
    assert answered + refused == len(statuses) and answered > 0 and refused > 0
    assert max(latencies) < CLIENT_TIMEOUT_S
    assert peak - baseline < 200, (baseline, peak)  # queued requests are small; nothing accumulates
    assert [snapshot(folder) for folder in served.folders] == served.before  # it wrote nothing anywhere
