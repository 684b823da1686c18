"""Runs one page's blocks in order, in the current folder, as a reader would: ``python doc_session.py BLOCKS RESULTS``.

Shell blocks run in bash (``-e -o pipefail``), one process per block. Python blocks share one namespace, so a
block may use what an earlier one defined, as in a notebook. A YAML block starts with a comment naming its file
(``# conf/model/mine.yaml``): it is written there, then composed through the real config loading with its
option selected. A ``background`` block is a server: it runs while the page's later blocks do, and is stopped
at the end. The first failing block ends the page; RESULTS gets one JSON line per block run.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

SERVER_PORT = 8000  # the port every serve example of the docs uses
SHIPPED_ROOT = "abstractvision/conf/config.yaml"


def run_shell(text: str) -> str:
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"exit status {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def start_server(text: str) -> subprocess.Popen[str]:
    """Start a serve block and wait until it listens on the docs' port."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", SERVER_PORT)) == 0:
            raise AssertionError(f"port {SERVER_PORT} is already in use: the docs' serve examples need it")
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: a pipe nobody reads would block the server
    server = subprocess.Popen(["bash", "-c", text], stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the server exited with status {server.returncode}\n{log.read()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", SERVER_PORT)) == 0:
                return server
        time.sleep(0.2)
    raise AssertionError(f"the server did not listen on port {SERVER_PORT} within 180 s")


def stop(server: subprocess.Popen[str]) -> None:
    """Stop a server (bash runs a one-command block as that command); the test ends the page's process group."""
    server.terminate()
    server.wait(timeout=30)  # one that will not stop fails the page, and the test kills the page's process group


def compose_yaml(text: str) -> str:
    """Write the block to the file its first line names, then compose a run with that option selected."""
    first = text.splitlines()[0]
    if not first.startswith("# ") or ".yaml" not in first:
        raise AssertionError("a YAML example starts with a comment naming its file, e.g. '# conf/model/mine.yaml'")
    path = Path(first[2:].split()[0].rstrip(",:"))
    data = yaml.safe_load(text) or {}
    if path.as_posix() == SHIPPED_ROOT:  # the root config is the package's own: the example must match it
        shipped = yaml.safe_load((Path(__file__).resolve().parents[2] / SHIPPED_ROOT).read_text())
        wrong = {key: value for key, value in data.items() if shipped.get(key) != value}
        assert not wrong, f"differs from the shipped {SHIPPED_ROOT}: {wrong}"
        return f"matches {SHIPPED_ROOT}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    from abstractvision.pipeline.compose import load_run_config

    group, name = path.parent.name, path.stem
    overrides = [f"+experiment={name}" if group == "experiment" else f"{group}={name}"]
    if group == "model" and data.get("backends"):
        overrides.append(f"backend={data['backends'][0]}")
    config = load_run_config(overrides, [path.parent.parent])
    return f"composed {' '.join(overrides)} with --config-dir {path.parent.parent}: {len(config.combinations)}"


def cpu_seconds() -> float:
    """CPU time of this process and of the processes it waited for (a busy machine inflates wall time, not this)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_block(block: dict[str, Any], namespace: dict[str, Any], servers: list[subprocess.Popen[str]]) -> str:
    language, text = block["language"], block["text"]
    if block["markers"].get("docs") == "background":
        servers.append(start_server(text))
        return "serving"
    if language == "python":
        exec(compile(text, block["where"], "exec"), namespace)
        return ""
    if language == "yaml":
        return compose_yaml(text)
    return run_shell(text)


def main(blocks_file: str, results_file: str) -> None:
    blocks = json.loads(Path(blocks_file).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    servers: list[subprocess.Popen[str]] = []
    with open(results_file, "w", encoding="utf-8") as results:
        try:
            for block in blocks:
                started, cpu_before = time.monotonic(), cpu_seconds()
                print(f"--- {block['where']} ({block['language']})", flush=True)
                try:
                    output, error = run_block(block, namespace, servers), None
                except BaseException as failure:  # report anything, SystemExit included, as this block's failure
                    output, error = "", "".join(traceback.format_exception(failure))
                record = {"where": block["where"], "seconds": round(time.monotonic() - started, 2),
                          "cpu_s": round(cpu_seconds() - cpu_before, 2), "error": error}  # fmt: skip
                results.write(json.dumps({**record, "output": output[-2000:]}) + "\n")
                results.flush()
                if error:
                    break
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    main(*sys.argv[1:])
