"""``run.batch_size`` over HTTP against a real server on 127.0.0.1: ``n`` images in one request only where no seed
is sent (profile ``openai``); a profile that sends seeds gets one request per job, and a server that answers
fewer images than asked gets its jobs again one by one."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fault_server import FaultServer, Reply, png_bytes
from test_openai_failure_policy import GENERATIONS, rows, run

pytestmark = pytest.mark.slow


def images(count: int) -> Reply:
    data = [base64.b64encode(png_bytes((10 * i, 0, 0))).decode() for i in range(count)]
    return Reply(json={"data": [{"b64_json": item} for item in data]})


def sent(server: FaultServer) -> list[dict]:
    return [r.json() for r in server.received if r.method == "POST"]


def test_unseeded_jobs_share_one_request_for_n_images(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("POST", GENERATIONS, images(4), images(2))
    result = run(tmp_path, fault_server, "backend.profile=openai", "seed=range(0,6)", "run.batch_size=4")
    assert result.returncode == 0, result.stderr
    assert [(body["n"], "seed" in body) for body in sent(fault_server)] == [(4, False), (2, False)]
    assert [job["status"] for job in rows(tmp_path)] == ["done"] * 6


def test_seeded_jobs_are_not_batched_and_a_short_answer_is_redone_singly(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.script("POST", GENERATIONS, images(1))
    result = run(tmp_path, fault_server, "seed=range(0,2)", "run.batch_size=4")  # profile generic: sends the seed
    assert result.returncode == 0, result.stderr
    assert [(body["n"], body["seed"]) for body in sent(fault_server)] == [(1, 0), (1, 1)]
    fault_server.received.clear()
    (tmp_path / "short").mkdir()
    result = run(tmp_path / "short", fault_server, "backend.profile=openai", "seed=range(5,7)", "run.batch_size=2")
    assert result.returncode == 0, result.stderr
    assert [body["n"] for body in sent(fault_server)] == [2, 1, 1]  # one image for two: each job asked again
    assert [(job["status"], job["attempts"]) for job in rows(tmp_path / "short")] == [("done", 2), ("done", 2)]
