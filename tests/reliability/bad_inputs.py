"""Helpers of the bad-input, security and load suites: the CLI run in-process, folder snapshots, served and
faulty HTTP servers, and small hostile files.

The HTTP helpers are the integration suites' own (``tests/integration/openai_http``), imported from there
rather than copied: that folder joins ``sys.path`` here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
import sys
import traceback
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INTEGRATION = Path(__file__).parents[1] / "integration"
for folder in (INTEGRATION, INTEGRATION / "openai_http"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

from fault_server import FaultServer, Reply, png_bytes  # noqa: E402
from server_processes import ServerProcess, serve  # noqa: E402

__all__ = ["FaultServer", "Reply", "ServerProcess", "png_bytes", "serve"]


@dataclass(frozen=True)
class Outcome:
    """What one bad input produced: an exit code (or HTTP status) and everything printed (or the body)."""

    code: int
    text: str


def cli_in_process(*argv: str) -> Outcome:
    """``abstractvision ARGV`` in this process (no interpreter start-up per case), its stdout and stderr
    captured. An exception escaping the CLI is a failure of the case: it would print a traceback."""
    from abstractvision.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            code = -1
            err.write(traceback.format_exc())
    return Outcome(code, out.getvalue() + err.getvalue())


def snapshot(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (folders as ``/``)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        files[key] = "/" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG signature and header declaring ``width`` x ``height``, with a few bytes of pixel data: a
    decompression bomb's shape (a small file that would inflate to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@contextlib.contextmanager
def upstream() -> Iterator[FaultServer]:
    """A fault server in a thread whose ``/v1/models`` answers, so a run's preflight passes."""
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()


def models_ok(server: FaultServer) -> None:
    server.script("GET", "/v1/models", Reply(json={"object": "list", "data": []}))
