"""A small real HTTP server on 127.0.0.1 that misbehaves on request, for the OpenAI-compatible backend's tests.

In a thread (``FaultServer``) it answers scripted replies per route and records what it received. Without
a script it speaks both video protocols: ``POST /v1/videos`` creates a job (queued, then in progress for
two polls, then completed; a prompt containing "never" never finishes, "fail" fails),
``GET /v1/videos/{id}[/content]``; ``POST /v1/videos/sync`` answers raw MP4 bytes and
``POST /v1/videos/sync-json`` answers ``{"data": [{"b64_json"}]}``. Run as a script it serves until
killed and prints ``listening on http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import itertools
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``truncate`` declares the full length, sends half the body and closes."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    truncate: bool = False

    def payload(self) -> tuple[bytes, str]:
        if self.json is not None:
            return json.dumps(self.json).encode(), self.content_type or "application/json"
        return self.body, self.content_type or "application/octet-stream"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, tuple[str | None, str, bytes]]:
        """Multipart fields as name -> (filename, content type, bytes)."""
        return parse_multipart(self.headers.get("Content-Type", ""), self.body)


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
    return parts


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: int = 16) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4_bytes() -> bytes:
    """A real four-frame MP4 (imageio + its bundled ffmpeg)."""
    import imageio.v3 as iio
    import numpy as np

    frames = np.zeros((4, 32, 32, 3), dtype=np.uint8)
    frames[:, :16] = 200
    return iio.imwrite("<bytes>", frames, extension=".mp4", fps=4)


class FaultServer:
    """The server; ``script(method, path, *replies)`` queues answers (the last one repeats)."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.received: list[Received] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._video: bytes | None = None
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def video(self) -> bytes:
        if self._video is None:
            self._video = mp4_bytes()
        return self._video

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[(method, path)] = list(replies)

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reply_for(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            queue = self.scripts.get((received.method, received.path))
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return self.video_route(received)

    def video_route(self, received: Received) -> Reply:
        path = received.path
        if received.method == "POST" and path == "/v1/videos/sync":
            return Reply(body=self.video, content_type="video/mp4")
        if received.method == "POST" and path == "/v1/videos/sync-json":
            return Reply(json={"created": 0, "data": [{"b64_json": base64.b64encode(self.video).decode()}]})
        if received.method == "POST" and path == "/v1/videos":
            prompt = _prompt_of(received)
            job = {"id": f"video_{next(self._ids)}", "object": "video", "status": "queued", "polls": 0}
            job["mode"] = "never" if "never" in prompt else "fail" if "fail" in prompt else "normal"
            self.jobs[job["id"]] = job
            return Reply(json=_public(job))
        parts = path.removeprefix("/v1/videos/").split("/")
        job = self.jobs.get(parts[0]) if path.startswith("/v1/videos/") else None
        if job is None:
            return Reply(status=404, json={"error": {"message": f"no route {path}", "type": "not_found"}})
        if len(parts) == 2 and parts[1] == "content":
            return Reply(body=self.video, content_type="video/mp4")
        job["polls"] += 1
        if job["mode"] == "fail":
            job["status"], job["error"] = "failed", {"code": "boom", "message": "the model fell over"}
        elif job["mode"] == "normal" and job["polls"] > 2:
            job["status"] = "completed"
        else:
            job["status"] = "in_progress"
        return Reply(json=_public(job))


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout tests) leaves a broken pipe behind; that is expected."""


def _prompt_of(received: Received) -> str:
    if received.headers.get("Content-Type", "").startswith("multipart/"):
        return received.form().get("prompt", (None, "", b""))[2].decode()
    return str(received.json().get("prompt", ""))


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in ("polls", "mode")}


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(self.command, self.path, dict(self.headers.items()), body)
            reply = server.reply_for(received)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload, content_type = reply.payload()
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.truncate:
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

    return Handler


if __name__ == "__main__":
    peer = FaultServer().start()
    print(f"listening on {peer.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.exit(0)
